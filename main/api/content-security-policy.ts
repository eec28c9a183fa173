/**
 * The one Content-Security-Policy of Talon's UI, in the desktop window and in browser mode alike:
 * the page may load only its own scripts, styles, images and fonts, connect only to its own origin
 * (browser mode's /v1; the desktop window reaches the engine over IPC), embed nothing and be
 * embedded nowhere. `data:` images are the TOTP enrolment QR code.
 */
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');
