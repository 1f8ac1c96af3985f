-- Prices of the routes that arrived with the real-time model APIs (issue 5) and had none.
INSERT INTO legacy.prices (version, route, unit, credits_per_unit) VALUES
    (1, 'speech-to-text-translate-ws', 'audio_seconds', 0.0120);
