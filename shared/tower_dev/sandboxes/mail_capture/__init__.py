"""A local SMTP server that captures the mail it is sent (aiosmtpd), for the notifications."""
