/**
 * The API key of this tab: asked once, kept in the tab's session storage (gone when the tab
 * closes, never shared with other tabs, never in local storage or a cookie).
 */
const STORAGE_KEY = 'pollmasters.apiKey';

export const readApiKey = (): string | null => {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
};

export const storeApiKey = (key: string | null): void => {
  if (key) sessionStorage.setItem(STORAGE_KEY, key);
  else sessionStorage.removeItem(STORAGE_KEY);
};
