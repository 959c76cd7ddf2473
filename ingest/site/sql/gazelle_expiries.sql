INSERT IGNORE INTO ratioguard_token_expiry (user_id, torrent_id, queued_at) VALUES {{values}}
