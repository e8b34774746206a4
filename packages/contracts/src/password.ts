/**
 * MMD's password rule, as constants with no imports so the web app and CLI can show it without
 * loading the API schemas. The server enforces it (code `weak_password`).
 */

/** The shortest password MMD accepts, in characters. */
export const PASSWORD_MIN_LENGTH = 10;

/** The password rule in words, for sign-up forms and `mmd account create`. */
export const PASSWORD_RULE = `At least ${PASSWORD_MIN_LENGTH} characters, not your handle, and not a common password or an easy variation of one (like Password123!). A few unrelated words make a good one.`;
