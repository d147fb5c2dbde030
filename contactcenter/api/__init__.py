"""The REST API's base layer: API clients' bearer tokens and scopes, permissions, throttles,
and the views and serializers every resource builds on."""
