import { InvalidArgumentError } from 'commander';

/** Argument parsers for commander that name the parameter in their error. */

export function positiveInt(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}, not "${value}"`);
    }
    return n;
  };
}

export function nonNegativeInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n)) {
      throw new InvalidArgumentError(`${name} must be a whole number of 0 or more, not "${value}"`);
    }
    return n;
  };
}

export function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
      throw new InvalidArgumentError(`${name} must be a number above 0, not "${value}"`);
    }
    return n;
  };
}

export function movieId(value: string): number {
  return positiveInt('movieId')(value);
}

export function list(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  ];
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** 0 asks the system for a free port. */
export function port(value: string): number {
  const n = nonNegativeInt('--port')(value);
  if (n > 65535) throw new InvalidArgumentError(`--port must be from 0 to 65535, not "${value}"`);
  return n;
}
