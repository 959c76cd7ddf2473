SELECT partition, next_offset
FROM consumer_offsets
WHERE consumer = 'ledger' AND topic = $1
