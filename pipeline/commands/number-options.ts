import { InvalidArgumentError } from "commander";
import { HUB_LICENSES } from "../../schemas/hub-licenses.js";

/** One style for every number an option takes: commander reports the option, the value and this. */
export const wholeNumber =
  (min: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number, at least ${min}`);
    return n;
  };

export const positiveNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a number above 0");
  return n;
};

export const fraction = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError("expected a fraction from 0 to 1");
  return n;
};

/** A count (a whole number >= 1), or a fraction (0 < f < 1): --validation-size. */
export const countOrFraction = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (n >= 1 && !Number.isInteger(n)))
    throw new InvalidArgumentError("expected a whole number, or a fraction between 0 and 1");
  return n;
};

export const dateYyyymmdd = (value: string): string => {
  if (!/^\d{8}$/.test(value)) throw new InvalidArgumentError("expected a date as YYYYMMDD");
  return value;
};

/** A similarity at which two things count as the same: above 0, at most 1. */
export const similarityThreshold = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new InvalidArgumentError("expected a similarity above 0 and at most 1");
  return n;
};

const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 };

/** A size: bytes, or a number with B, KB, MB, GB (powers of 10) or KiB, MiB, GiB (of 2). */
export const byteSize = (value: string): number => {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = UNITS[(m?.[2] || "b").toLowerCase()];
  const n = m && unit ? Math.floor(Number(m[1]) * unit) : Number.NaN;
  if (!Number.isFinite(n) || n < 1) throw new InvalidArgumentError("expected a size such as 500MB, 64MiB or 1048576");
  return n;
};

/** A license id the Hub recognises in a card. */
export const hubLicense = (value: string): string => {
  if (!HUB_LICENSES.has(value)) throw new InvalidArgumentError("expected a Hub license id such as apache-2.0, mit or cc-by-4.0 ('other' for any other)");
  return value;
};

export const anyNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError("expected a number");
  return n;
};
