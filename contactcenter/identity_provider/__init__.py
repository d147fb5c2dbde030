"""The platform's own OAuth 2.0 / OpenID Connect server (/o/): redirect rules, discovery,
sign-in lockouts and the token endpoint's limit."""
