// The timestamps keys.json and the API accept, as chrono (the seed) and Date#toISOString
// write them: seconds always, up to nanoseconds, Z or an offset. Fixed width up to the seconds.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The moment an RFC 3339 timestamp names, or NaN when the text is not one or
 * names a date or time that does not exist. Date.parse alone reads 2026-02-30
 * as March 2 and 24:00 as the next midnight; a hand-edited or mistyped date
 * must be refused, not moved. (Start-up reads three per key: the fields are
 * read by position rather than by capture groups, which cost a fifth of a
 * 100,000-key load.)
 */
export function parseRfc3339(text: string): number {
  if (!RFC3339.test(text)) return Number.NaN;
  const year = twoDigits(text, 0) * 100 + twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const zoned = !text.endsWith("Z");
  if (
    month < 1 ||
    month > 12 ||
    twoDigits(text, 8) < 1 ||
    twoDigits(text, 8) > daysIn(year, month) ||
    twoDigits(text, 11) > 23 ||
    twoDigits(text, 14) > 59 ||
    twoDigits(text, 17) > 59 ||
    (zoned && (twoDigits(text, text.length - 5) > 23 || twoDigits(text, text.length - 2) > 59))
  ) {
    return Number.NaN;
  }
  return Date.parse(text);
}

function twoDigits(text: string, at: number): number {
  return (text.charCodeAt(at) - 48) * 10 + text.charCodeAt(at + 1) - 48;
}

function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
}
