-- A per-key rate limit in requests per second (`threadsd keys create --rate N`); NULL
-- means the server's default (`serve --rate-limit`), which is off unless set.

ALTER TABLE api_keys ADD COLUMN rate_limit INTEGER CHECK (rate_limit IS NULL OR rate_limit > 0);
