/**
 * The templates capability's public surface. Campaigns and notifications render a template for
 * each recipient with:
 *
 *     const version = await templates.approvedVersion(businessId, templateId); // or .version(businessId, versionId)
 *     const links = templates.links(campaignId); // tracked links naming this sender (undefined without MMD_PUBLIC_URL)
 *     const result = renderTemplate({ version, locale, timeZone, variables, contact, links });
 *     if (!result.ok) skip(recipient, result.reason); // e.g. 'missing variable first_name'
 *     else messaging.send(business, conversationId, { ...result.message, idempotencyKey });
 *
 * `renderTemplate` is pure (no I/O, no clock): `version` is an approved TemplateVersion (drafts
 * render only with `allowDraft`, for previews); `locale` and `timeZone` are the business's
 * defaults, overridden by the contact's own; `variables` win over the contact's fields
 * (first_name, handle, locale…) and attributes. Every string is filled in, formatted with Intl
 * in the contact's locale and time zone; a missing value with no default fails the recipient with
 * a reason, never a blank. The result's `message` is exactly messaging.send's input (text, media,
 * interactive). When the template has a personalised header, `media_spec` is set instead of
 * `message.media`: call `templates.render(businessId, input)` instead, which draws it (or finds
 * the identical render in the cache) and puts its media id in `message.media`.
 *
 * Campaigns may instead call `templates.renderFor({ businessId, versionId, contact, variables,
 * context })` (version from memory, links, personalised media in one call), and check a version
 * before starting with `templates.versionInfo(businessId, versionId, givenVariableNames)`
 * (approved? which needed variables nobody gave: `variablesNeeded(version)`).
 *
 * Clicks: `templates.onClick(listener)` hears every followed tracked link ({ context, contactId,
 * button, … }); `templates.clicks(businessId, context)` lists them.
 */
export { type LinkMaker, type LinkRef, type Layer, type PersonalisedMedia, type RenderInput, type RenderResult, type RenderedMessage, type ResolvedMedia, TEMPLATE_PURPOSES, type TemplateButton, type TemplateContent, type TemplatePurpose, type TemplateVersion, checkVersion, chooseVariant, renderTemplate, variablesNeeded } from './render.ts';
export { CONTACT_FIELDS, type TemplateContact, type VariableDecl, type VariableType, type VariableValue, canonicalLocale, isTimeZone } from './variables.ts';
export { createTemplates, type Templates, type TemplatesDeps, type TemplateClick } from './service.ts';
export { createPersonaliser, type Personaliser, type PersonaliseResult } from './personalise.ts';
export { createLinkSigner } from './links.ts';
export { templateRoutes } from './routes.ts';
export { drawOverImage, drawOverVideo } from './draw.ts';
export type { TemplatesTables } from './schema.ts';
