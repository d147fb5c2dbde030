"""Library modules any app may use: outbound HTTP, strict JSON and the shape of refusals."""
