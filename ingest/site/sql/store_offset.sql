UPDATE ratioguard_writeback_offsets SET next_offset = ? WHERE consumer = ? AND topic = ? AND part = ?
