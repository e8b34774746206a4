/** Small hooks the business console's pages share. */
import { useEffect, useState } from 'react';

/** `value`, once it has stopped changing for `ms` (typing in a search box, editing a rule). */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/** Offers `data` to the browser as a file download named `filename`. */
export function download(filename: string, data: Blob) {
  const url = URL.createObjectURL(data);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  // The browser has the file once click() returns; the URL can go after this task.
  window.setTimeout(() => URL.revokeObjectURL(url), 0);
}
