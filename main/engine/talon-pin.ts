import { TalonError } from './talon-error.js';

/**
 * The one rule for a token PIN a human chooses at set-up. The token itself takes 4 to 255 bytes;
 * Talon asks for more, because the PIN is what stands between a stolen data folder and its keys.
 */
export const pinRule = { minLength: 8, maxBytes: 255 } as const;

const weakPatterns: readonly RegExp[] = [
  /^(.)\1*$/u, // one character repeated
  /^(?:0123456789|1234567890|9876543210|abcdefghijklmnopqrstuvwxyz)/iu,
];

function isRunOfSteps(pin: string): boolean {
  if (pin.length < 3) return false;
  const step = pin.charCodeAt(1) - pin.charCodeAt(0);
  if (Math.abs(step) !== 1) return false;
  for (let i = 2; i < pin.length; i += 1)
    if (pin.charCodeAt(i) - pin.charCodeAt(i - 1) !== step) return false;
  return true;
}

export function checkPinConfirmation(pin: string, confirmation: string): void {
  if (pin !== confirmation) {
    throw new TalonError(
      'invalid_input',
      'pin_confirmation: does not match the PIN. Type the same PIN twice.',
    );
  }
}

/** Throws `invalid_input` unless `pin` is strong enough and `confirmation` repeats it. Never echoes either. */
export function checkChosenPin(pin: string, confirmation: string): void {
  checkPinConfirmation(pin, confirmation);
  if (pin.length < pinRule.minLength || Buffer.byteLength(pin, 'utf8') > pinRule.maxBytes) {
    throw new TalonError(
      'invalid_input',
      `pin: must be at least ${pinRule.minLength} characters (and at most ${pinRule.maxBytes} bytes). Choose a longer PIN; a passphrase works.`,
    );
  }
  if (pin.trim() !== pin) {
    throw new TalonError('invalid_input', 'pin: must not start or end with a space. Choose another PIN.');
  }
  if (weakPatterns.some((pattern) => pattern.test(pin)) || isRunOfSteps(pin)) {
    throw new TalonError(
      'invalid_input',
      'pin: is too easy to guess (one character repeated, or a run such as 12345678). Choose another PIN.',
    );
  }
}
