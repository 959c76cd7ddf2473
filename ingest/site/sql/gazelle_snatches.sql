INSERT INTO xbt_snatched (uid, fid, tstamp, IP) VALUES {{values}}
