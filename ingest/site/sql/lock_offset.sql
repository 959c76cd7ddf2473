SELECT next_offset FROM ratioguard_writeback_offsets WHERE consumer = ? AND topic = ? AND part = ? FOR UPDATE
