/**
 * STOP / START / HELP in a person's direct chat with a business, in English, French, Spanish,
 * German and Portuguese, as carriers and WhatsApp users expect them. A keyword is the whole
 * message (case, accents, surrounding spaces and a final "!" or "." ignored): "stop" opts out,
 * "please stop sending me the newsletter" is an ordinary message a person on the team reads.
 * The reply confirming it is in the keyword's language.
 */

export type KeywordAction = 'stop' | 'start' | 'help';
export type KeywordLanguage = 'en' | 'fr' | 'es' | 'de' | 'pt';

/** Normalised (upper case, no accents) keyword → action and language. */
const KEYWORDS: Record<string, { action: KeywordAction; lang: KeywordLanguage }> = {};
function add(action: KeywordAction, lang: KeywordLanguage, words: string[]) {
  for (const w of words) KEYWORDS[w] = { action, lang };
}
add('stop', 'en', ['STOP', 'UNSUBSCRIBE', 'STOPALL', 'STOP ALL', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'OPT OUT', 'OPT-OUT', 'REVOKE']);
// Never a bare "yes": a person answering a question about an order must not be subscribed to marketing.
add('start', 'en', ['START', 'UNSTOP', 'SUBSCRIBE', 'OPTIN', 'OPT IN', 'OPT-IN', 'RESUME']);
add('help', 'en', ['HELP', 'INFO']);
add('stop', 'fr', ['ARRET', 'ARRETER', 'DESINSCRIRE', 'DESABONNER', 'DESINSCRIPTION', 'DESABONNEMENT', 'STOP SVP']);
add('start', 'fr', ['DEMARRER', 'REPRENDRE', 'INSCRIRE', 'ABONNER']);
add('help', 'fr', ['AIDE']);
add('stop', 'es', ['BAJA', 'PARAR', 'DETENER', 'ALTO', 'CANCELAR', 'DARSE DE BAJA']);
add('start', 'es', ['ALTA', 'COMENZAR', 'REANUDAR', 'SUSCRIBIR']);
add('help', 'es', ['AYUDA']);
add('stop', 'de', ['STOPP', 'ABMELDEN', 'ABBESTELLEN', 'BEENDEN', 'KUNDIGEN']);
add('start', 'de', ['ANMELDEN', 'STARTEN', 'FORTSETZEN']);
add('help', 'de', ['HILFE']);
// PARAR and CANCELAR are shared with Spanish: the Spanish reply is kept (both read it).
add('stop', 'pt', ['SAIR', 'CANCELAR INSCRICAO', 'DESCADASTRAR', 'DESINSCREVER', 'PARE']);
add('start', 'pt', ['INICIAR', 'RETOMAR', 'INSCREVER']);
add('help', 'pt', ['AJUDA']);

/** The keyword a message is, if it is one. */
export function matchKeyword(text: string | null | undefined): { action: KeywordAction; lang: KeywordLanguage } | null {
  const key = normaliseWord(text);
  return key === null ? null : (KEYWORDS[key] ?? null);
}

/** Upper case, accents and a final "!" or "." removed, spaces collapsed; null for long text. */
export function normaliseWord(text: string | null | undefined): string | null {
  if (!text || text.length > 40) return null;
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .trim()
    .replace(/[.!]+$/, '')
    .replace(/\s+/g, ' ')
    .toUpperCase();
}

/** "YES" and its equivalents confirm a pending double opt-in (and do nothing else). */
export const CONFIRM_WORDS = new Set(['YES', 'OUI', 'SI', 'JA', 'SIM']);

const REPLIES: Record<KeywordLanguage, Record<KeywordAction | 'confirmed' | 'confirm_request', (business: string) => string>> = {
  en: {
    stop: (b) => `You will no longer get marketing messages from ${b}. Reply START to subscribe again. Order updates and replies to your questions still reach you.`,
    start: (b) => `You are subscribed to marketing messages from ${b} again. Reply STOP at any time to stop them.`,
    help: (b) => `This is ${b}. Reply STOP to stop marketing messages, START to get them again. Your consent record: Settings → Businesses in MMD.`,
    confirmed: (b) => `Thanks! You are subscribed to messages from ${b}. Reply STOP at any time to stop them.`,
    confirm_request: (b) => `Please confirm: do you want to receive the messages you chose from ${b}? Reply YES to confirm. Nothing is sent until you do.`,
  },
  fr: {
    stop: (b) => `Vous ne recevrez plus de messages marketing de ${b}. Répondez DEMARRER pour vous réabonner.`,
    start: (b) => `Vous êtes de nouveau abonné aux messages marketing de ${b}. Répondez ARRET à tout moment pour les arrêter.`,
    help: (b) => `Ici ${b}. Répondez ARRET pour ne plus recevoir de messages marketing, DEMARRER pour les recevoir à nouveau.`,
    confirmed: (b) => `Merci ! Vous êtes abonné aux messages de ${b}. Répondez ARRET à tout moment.`,
    confirm_request: (b) => `Confirmez-vous vouloir recevoir les messages choisis de ${b} ? Répondez OUI pour confirmer.`,
  },
  es: {
    stop: (b) => `Ya no recibirás mensajes de marketing de ${b}. Responde ALTA para suscribirte de nuevo.`,
    start: (b) => `Vuelves a estar suscrito a los mensajes de marketing de ${b}. Responde BAJA en cualquier momento para dejar de recibirlos.`,
    help: (b) => `Esto es ${b}. Responde BAJA para dejar de recibir mensajes de marketing, ALTA para volver a recibirlos.`,
    confirmed: (b) => `¡Gracias! Estás suscrito a los mensajes de ${b}. Responde BAJA en cualquier momento.`,
    confirm_request: (b) => `¿Confirmas que quieres recibir los mensajes elegidos de ${b}? Responde SI para confirmar.`,
  },
  de: {
    stop: (b) => `Du erhältst keine Werbenachrichten mehr von ${b}. Antworte ANMELDEN, um sie wieder zu erhalten.`,
    start: (b) => `Du erhältst wieder Werbenachrichten von ${b}. Antworte jederzeit STOPP, um sie abzubestellen.`,
    help: (b) => `Hier ist ${b}. Antworte STOPP, um Werbenachrichten abzubestellen, ANMELDEN, um sie wieder zu erhalten.`,
    confirmed: (b) => `Danke! Du bist für Nachrichten von ${b} angemeldet. Antworte jederzeit STOPP.`,
    confirm_request: (b) => `Bitte bestätige: Möchtest du die gewählten Nachrichten von ${b} erhalten? Antworte JA zur Bestätigung.`,
  },
  pt: {
    stop: (b) => `Você não receberá mais mensagens de marketing de ${b}. Responda INICIAR para voltar a recebê-las.`,
    start: (b) => `Você voltou a receber mensagens de marketing de ${b}. Responda SAIR a qualquer momento para parar.`,
    help: (b) => `Aqui é ${b}. Responda SAIR para parar as mensagens de marketing, INICIAR para voltar a recebê-las.`,
    confirmed: (b) => `Obrigado! Você está inscrito nas mensagens de ${b}. Responda SAIR a qualquer momento.`,
    confirm_request: (b) => `Confirma que quer receber as mensagens escolhidas de ${b}? Responda SIM para confirmar.`,
  },
};

export type ReplyKind = KeywordAction | 'confirmed' | 'confirm_request';

export function replyText(kind: ReplyKind, lang: KeywordLanguage, business: string): string {
  return REPLIES[lang][kind](business);
}

/** A language for replies from a contact's BCP 47 locale (English when not one of ours). */
export function languageOf(locale: string | null | undefined): KeywordLanguage {
  const base = (locale ?? 'en').slice(0, 2).toLowerCase();
  return base === 'fr' || base === 'es' || base === 'de' || base === 'pt' ? base : 'en';
}
