"""Teams tab pages: SSO and dev sign-in, signed sessions, security headers, and the Home tab."""
