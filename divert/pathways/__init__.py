"""Operations that change a case or a person: load, check, mutate, flush, audit. Never commit."""
