/**
 * A phone number as SMS providers take it: E.164, a `+`, the country code and the subscriber
 * number, digits only, at most 15 of them (ITU-T E.164), e.g. +15551234567.
 */
export const E164_PATTERN = /^\+[1-9]\d{1,14}$/;

export function isE164(text: string): boolean {
  return E164_PATTERN.test(text);
}

/** Each number once, in the order given (a number listed twice would be texted twice). */
export function uniqueNumbers(numbers: readonly string[]): string[] {
  return [...new Set(numbers.map((n) => n.trim()).filter((n) => n !== ''))];
}
