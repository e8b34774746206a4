/**
 * The colour theme: light, dark, or the system's (the default). Kept in localStorage per browser
 * and applied as `data-theme` on <html>, which sets `color-scheme`; styles.css writes every colour
 * as a light-dark() pair, so nothing else changes.
 */
export type Theme = 'system' | 'light' | 'dark';
const KEY = 'mmd.theme';

export function storedTheme(): Theme {
  try {
    const value = window.localStorage.getItem(KEY);
    return value === 'light' || value === 'dark' ? value : 'system';
  } catch {
    return 'system';
  }
}

export function applyTheme(theme: Theme) {
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

export function setTheme(theme: Theme) {
  try {
    if (theme === 'system') window.localStorage.removeItem(KEY);
    else window.localStorage.setItem(KEY, theme);
  } catch {
    // Private windows may refuse storage: the theme still applies to this page.
  }
  applyTheme(theme);
}
