"""Chinese text tools shared by the stages: normalisation, boilerplate, PII, tokens, shingles."""
