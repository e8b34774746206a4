/**
 * Config overrides for benches that measure something other than spread friction: the velocity
 * tiers off (label, confirmation, cooldown, hold), and with them the forward limits off too.
 */
export const TIERS_OFF = {
  spreadFastChatsPerMinute: 0,
  spreadFastChatsPerHour: 0,
  spreadConfirmChatsPerMinute: 0,
  spreadConfirmChatsPerHour: 0,
  spreadCooldownChatsPerMinute: 0,
  spreadCooldownChatsPerHour: 0,
  spreadHoldChatsPerMinute: 0,
  spreadHoldChatsPerHour: 0,
};

export const FRICTION_OFF = { ...TIERS_OFF, spreadForwardChatsPerMinute: 0, spreadManyTimesChatsPerMinute: 0 };
