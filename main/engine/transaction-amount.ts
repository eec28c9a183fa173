import { formatUnits } from 'ethers';
import { TalonError } from './talon-error.js';

/**
 * Amounts of a chain's native currency, written as the decimal string 1Claw takes ("0.01" ETH),
 * turned into an exact integer of the smallest unit (wei) without ever passing through a
 * floating-point number. Each refusal says what a good value looks like.
 */
export function parseNativeAmount(raw: unknown, field: string, decimals = 18, symbol = 'ETH'): bigint {
  const example = `such as "0.01" (${symbol})`;
  if (typeof raw === 'number') {
    throw new TalonError(
      'invalid_input',
      `${field} must be a decimal string ${example}, not a JSON number: numbers lose precision.`,
    );
  }
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw new TalonError('invalid_input', `${field} is required: a decimal string ${example}.`);
  }
  const text = raw.trim();
  if (text.startsWith('-')) {
    throw new TalonError('invalid_input', `${field} must not be negative (got "${text.slice(0, 40)}").`);
  }
  if (/[eE]/u.test(text) && /^[+]?[\d.]+[eE][+-]?\d+$/u.test(text)) {
    throw new TalonError(
      'invalid_input',
      `${field} must be written out in plain decimals, ${example}, not in exponent notation ("${text.slice(0, 40)}").`,
    );
  }
  const match = /^(\d+)(?:\.(\d+))?$/u.exec(text);
  if (!match || text.length > 100) {
    throw new TalonError(
      'invalid_input',
      `${field} must be a plain decimal number ${example}: digits, at most one '.', no sign, spaces, commas or units.`,
    );
  }
  const [, whole, fraction = ''] = match;
  if (fraction.length > decimals) {
    throw new TalonError(
      'invalid_input',
      `${field} has ${fraction.length} decimal places, but ${symbol} has only ${decimals}: round it to at most ${decimals} (1 wei is 0.${'0'.repeat(decimals - 1)}1).`,
    );
  }
  return BigInt(whole!) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, '0') || '0');
}

/** A whole number of wei given as a decimal string (gas prices and fees, as 1Claw takes them). */
export function parseWei(raw: unknown, field: string): bigint {
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) return BigInt(raw);
  if (typeof raw !== 'string' || !/^\d{1,78}$/u.test(raw.trim())) {
    throw new TalonError(
      'invalid_input',
      `${field} must be a whole number of wei as a decimal string, such as "2000000000" (2 gwei).`,
    );
  }
  return BigInt(raw.trim());
}

/** Wei as the major unit, exactly: 1500000000000000000n → "1.5". */
export function formatNative(wei: bigint, decimals = 18): string {
  const text = formatUnits(wei, decimals);
  return text.endsWith('.0') ? text.slice(0, -2) : text;
}
