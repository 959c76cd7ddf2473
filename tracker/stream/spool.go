package stream

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// errSpoolFull is returned by append beyond the configured maximum size.
var errSpoolFull = errors.New("spool full")

const (
	segmentSuffix  = ".spool"
	spoolBufSize   = 256 << 10
	readChunk      = 1 << 20
	firstSegmentID = 1
)

// spool is the on-disk FIFO of records (see the package documentation for
// the format). Appends are buffered; flush and fsync happen at sync (the
// producer calls it every SpoolFsyncInterval), at rotation and at close.
// One reader (the replayer) reads from the acknowledged cursor; ack moves
// the cursor and deletes segments whose records are all acknowledged.
type spool struct {
	dir      string
	segBytes int64
	maxBytes int64
	log      *slog.Logger
	lock     *os.File

	closing sync.WaitGroup // background fsync and close of rotated segments

	mu       sync.Mutex
	segs     []*segment // oldest first; the last one takes appends when w != nil
	w        *os.File
	bw       *bufio.Writer
	unsynced bool
	werr     error  // sticky write error: the spool refuses appends
	records  int64  // records in segs
	bytes    int64  // framed bytes of records in segs
	ack      cursor // everything before it is acknowledged
	ackRecs  int64  // records of segs[0] before ack
	nextID   uint64
	// recovered counts what opening the directory found.
	recovered struct{ records, segments, tornBytes int64 }
}

type segment struct {
	id      uint64
	path    string
	size    int64 // logical end of the file, including bytes still in bw
	records int64
}

// cursor is a position in the spool: segment id and byte offset.
type cursor struct {
	seg uint64
	off int64
}

// openSpool opens (creating if needed) and locks dir, checks every segment
// left by a previous process and truncates a torn tail.
func openSpool(dir string, segBytes, maxBytes int64, log *slog.Logger) (*spool, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create spool directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &spool{dir: dir, segBytes: segBytes, maxBytes: maxBytes, log: log, lock: lock, nextID: firstSegmentID}
	if err := s.recover(); err != nil {
		unlockDir(lock)
		return nil, err
	}
	if len(s.segs) > 0 {
		s.ack = cursor{seg: s.segs[0].id, off: magicLen}
	}
	return s, nil
}

func (s *spool) recover() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("read spool directory: %w", err)
	}
	var ids []uint64
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), segmentSuffix)
		if !ok || e.IsDir() {
			continue
		}
		id, err := strconv.ParseUint(name, 16, 64)
		if err != nil {
			s.log.Warn("spool: ignoring file with a foreign name", "file", e.Name())
			continue
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		seg, err := s.checkSegment(id)
		if err != nil {
			return err
		}
		s.nextID = id + 1
		if seg == nil {
			continue
		}
		s.segs = append(s.segs, seg)
		s.records += seg.records
		s.bytes += seg.size - magicLen
		s.recovered.records += seg.records
		s.recovered.segments++
	}
	return nil
}

// checkSegment validates a segment left by a previous process, truncating
// it after its last intact record. It returns nil (and removes the file)
// when nothing is left in it.
func (s *spool) checkSegment(id uint64) (*segment, error) {
	path := s.segmentPath(id)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open spool segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat spool segment: %w", err)
	}
	magic := make([]byte, magicLen)
	if _, err := io.ReadFull(f, magic); err != nil || string(magic) != segmentMagic {
		if st.Size() > magicLen || (err == nil && string(magic) != segmentMagic) {
			return nil, fmt.Errorf("spool segment %s is not a spool file (bad magic); move it away", path)
		}
		// Crashed while creating the segment: nothing was in it.
		return nil, s.remove(path)
	}
	seg := &segment{id: id, path: path, size: magicLen}
	r := bufio.NewReaderSize(f, readChunk)
	var hdr [recordHeader]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			break // clean end (EOF) or torn header (ErrUnexpectedEOF)
		}
		n, ok := bodyLen(hdr[:])
		if !ok {
			break
		}
		buf = slices.Grow(buf[:0], recordHeader+n)[:recordHeader+n]
		copy(buf, hdr[:])
		if _, err := io.ReadFull(r, buf[recordHeader:]); err != nil {
			break
		}
		if _, _, err := parseRecord(buf); err != nil {
			break
		}
		seg.size += int64(len(buf))
		seg.records++
	}
	if torn := st.Size() - seg.size; torn > 0 {
		s.log.Warn("spool: truncating a torn or corrupt tail left by a crash",
			"segment", path, "records_kept", seg.records, "bytes_dropped", torn)
		s.recovered.tornBytes += torn
		if err := f.Truncate(seg.size); err != nil {
			return nil, fmt.Errorf("truncate torn spool segment: %w", err)
		}
		if err := f.Sync(); err != nil {
			return nil, fmt.Errorf("sync truncated spool segment: %w", err)
		}
	}
	if seg.records == 0 {
		return nil, s.remove(path)
	}
	return seg, nil
}

// bodyLen returns the body length announced by a record header, false if
// it cannot be a record.
func bodyLen(hdr []byte) (int, bool) {
	n := int(uint32(hdr[0])<<24 | uint32(hdr[1])<<16 | uint32(hdr[2])<<8 | uint32(hdr[3]))
	return n, n >= keyLen && n <= maxBody
}

func (s *spool) segmentPath(id uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%016x%s", id, segmentSuffix))
}

func (s *spool) remove(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove spool segment: %w", err)
	}
	return nil
}

// append adds n framed records (concatenated in b) at the tail.
func (s *spool) append(b []byte, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.werr != nil {
		return s.werr
	}
	if s.pendingBytesLocked()+int64(len(b)) > s.maxBytes {
		return errSpoolFull
	}
	if s.w == nil || s.segs[len(s.segs)-1].size >= s.segBytes {
		if err := s.rotateLocked(); err != nil {
			s.werr = err
			return err
		}
	}
	if _, err := s.bw.Write(b); err != nil {
		s.werr = fmt.Errorf("write spool segment: %w", err)
		return s.werr
	}
	last := s.segs[len(s.segs)-1]
	last.size += int64(len(b))
	last.records += int64(n)
	s.records += int64(n)
	s.bytes += int64(len(b))
	s.unsynced = true
	return nil
}

// rotateLocked closes the segment being appended to (flushed and synced)
// and starts a new one.
func (s *spool) rotateLocked() error {
	if err := s.closeWriterLocked(true); err != nil {
		return err
	}
	id := s.nextID
	path := s.segmentPath(id)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("create spool segment: %w", err)
	}
	if _, err := f.WriteString(segmentMagic); err != nil {
		f.Close()
		return fmt.Errorf("write spool segment header: %w", err)
	}
	syncDir(s.dir)
	s.nextID++
	s.w = f
	if s.bw == nil {
		s.bw = bufio.NewWriterSize(f, spoolBufSize)
	} else {
		s.bw.Reset(f)
	}
	s.segs = append(s.segs, &segment{id: id, path: path, size: magicLen})
	if len(s.segs) == 1 {
		s.ack = cursor{seg: id, off: magicLen}
		s.ackRecs = 0
	}
	return nil
}

// closeWriterLocked flushes and closes the segment being appended to. With
// background set, its fsync and close run in a goroutine so that appends do
// not wait for the disk (close waits for them); without, they run now.
func (s *spool) closeWriterLocked(background bool) error {
	if s.w == nil {
		return nil
	}
	f := s.w
	s.w = nil
	if err := s.bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("flush spool segment: %w", err)
	}
	finish := func() error {
		err := f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("close spool segment: %w", err)
		}
		return nil
	}
	if !background {
		return finish()
	}
	s.closing.Add(1)
	go func() {
		defer s.closing.Done()
		if err := finish(); err != nil {
			s.log.Error("spool: syncing a rotated segment", "err", err)
		}
	}()
	return nil
}

// sync flushes buffered appends and fsyncs the segment being appended to.
func (s *spool) sync() error {
	s.mu.Lock()
	if s.w == nil || !s.unsynced {
		s.mu.Unlock()
		return nil
	}
	if err := s.flushLocked(); err != nil {
		s.mu.Unlock()
		return err
	}
	f := s.w
	s.unsynced = false
	s.mu.Unlock()
	// fsync outside the lock: appends go on meanwhile. A rotation that
	// closes f meanwhile syncs it itself.
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("sync spool segment: %w", err)
	}
	return nil
}

// flush writes buffered appends to the file (no fsync).
func (s *spool) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.flushLocked() // sticky; surfaces at append and Ready
}

func (s *spool) flushLocked() error {
	if s.bw == nil || s.w == nil || s.bw.Buffered() == 0 {
		return nil
	}
	if err := s.bw.Flush(); err != nil {
		s.werr = fmt.Errorf("flush spool segment: %w", err)
		return s.werr
	}
	return nil
}

// close flushes, fsyncs and closes the spool and releases the directory.
func (s *spool) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.closeWriterLocked(false)
	s.closing.Wait()
	if s.lock != nil {
		unlockDir(s.lock)
		s.lock = nil
	}
	return err
}

// view describes the part of the segment holding c that can be read.
type view struct {
	at    cursor // c, or the start of the next segment if c's is gone
	path  string
	limit int64 // readable end (flushed)
	next  uint64
	last  bool
	ok    bool // false: the spool is empty
}

// viewAt returns what the reader may read from c. When c reaches the bytes
// still buffered for the last segment, they are flushed first.
func (s *spool) viewAt(c cursor) view {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, _ := slices.BinarySearchFunc(s.segs, c.seg, func(sg *segment, id uint64) int {
		switch {
		case sg.id < id:
			return -1
		case sg.id > id:
			return 1
		}
		return 0
	})
	if i == len(s.segs) {
		return view{}
	}
	sg := s.segs[i]
	v := view{at: c, path: sg.path, limit: sg.size, last: i == len(s.segs)-1, ok: true}
	if sg.id != c.seg {
		v.at = cursor{seg: sg.id, off: magicLen}
	}
	if !v.last {
		v.next = s.segs[i+1].id
	} else if s.w != nil {
		if v.at.off >= sg.size-int64(s.bw.Buffered()) {
			_ = s.flushLocked() // an error stays sticky and surfaces at append and Ready
		}
		v.limit = sg.size - int64(s.bw.Buffered())
	}
	return v
}

// ackTo records that every record before c (n records) reached Kafka and
// deletes the segments wholly before it.
func (s *spool) ackTo(c cursor, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.seg == s.ack.seg {
		s.ackRecs += n
	} else {
		s.ackRecs = n
	}
	s.ack = c
	for len(s.segs) > 0 {
		sg := s.segs[0]
		done := sg.id < c.seg || (sg.id == c.seg && c.off >= sg.size && len(s.segs) > 1)
		if !done {
			break
		}
		if sg.id == c.seg {
			s.ackRecs = 0
		}
		s.dropHeadLocked()
	}
}

func (s *spool) dropHeadLocked() {
	sg := s.segs[0]
	if err := s.remove(sg.path); err != nil {
		s.log.Error("spool: cannot delete an acknowledged segment; it will be replayed again at the next start", "err", err)
	}
	s.records -= sg.records
	s.bytes -= sg.size - magicLen
	s.segs = s.segs[1:]
	if len(s.segs) > 0 && s.ack.seg < s.segs[0].id {
		s.ack = cursor{seg: s.segs[0].id, off: magicLen}
		s.ackRecs = 0
	}
}

// drainedLocked reports whether every record was acknowledged; then the
// files are removed and the next append starts a fresh segment.
func (s *spool) drainedLocked() bool {
	if len(s.segs) == 0 {
		return true
	}
	last := s.segs[len(s.segs)-1]
	if len(s.segs) > 1 || s.ack.seg != last.id || s.ack.off < last.size {
		return false
	}
	// Every record is on Kafka (so nothing is buffered): the file is
	// deleted, no need to fsync it.
	if s.w != nil {
		s.w.Close()
		s.w = nil
	}
	s.dropHeadLocked()
	s.ackRecs = 0
	return true
}

// drained is drainedLocked for callers that do not hold the lock.
func (s *spool) drained() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.drainedLocked()
}

func (s *spool) pendingBytesLocked() int64 {
	b := s.bytes
	if len(s.segs) > 0 && s.ack.seg == s.segs[0].id {
		b -= s.ack.off - magicLen
	}
	return b
}

// depth returns the unacknowledged records and their framed bytes.
func (s *spool) depth() (records, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records - s.ackRecs, s.pendingBytesLocked()
}

// err returns the sticky write error, if any.
func (s *spool) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.werr
}

// reader reads records from the spool; it is used by one goroutine.
type spoolReader struct {
	s    *spool
	log  *slog.Logger
	f    *os.File
	fid  uint64
	buf  []byte
	recs []record
	// corrupt counts records skipped because they failed their check.
	corrupt int64
}

// next reads up to max records from c, all from one segment. It returns
// the records (aliasing an internal buffer valid until the next call) and
// the cursor after them; no records means the spool is read to its end.
func (r *spoolReader) next(c cursor, max int) ([]record, cursor, error) {
	flushed := false
	for {
		v := r.s.viewAt(c)
		if !v.ok {
			return nil, c, nil
		}
		c = v.at
		if c.off >= v.limit {
			if v.last {
				return nil, c, nil
			}
			c = cursor{seg: v.next, off: magicLen}
			continue
		}
		if err := r.open(v.at.seg, v.path); err != nil {
			return nil, c, err
		}
		want := min(v.limit-c.off, readChunk)
		recs, n, err := r.readAt(c.off, want, v.limit, max)
		if err == nil && len(recs) == 0 && v.last && !flushed {
			// The readable end cuts a record whose tail is still buffered.
			flushed = true
			r.s.flush()
			continue
		}
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				return nil, c, err
			}
			// Only a disk fault corrupts a live segment: skip the rest.
			r.corrupt++
			r.log.Error("spool: corrupt record while replaying; skipping the rest of the segment",
				"segment", v.path, "offset", c.off+n, "err", err)
			if len(recs) > 0 {
				return recs, cursor{seg: c.seg, off: c.off + n}, nil
			}
			if v.last {
				return nil, cursor{seg: c.seg, off: v.limit}, nil
			}
			c = cursor{seg: v.next, off: magicLen}
			continue
		}
		return recs, cursor{seg: c.seg, off: c.off + n}, nil
	}
}

// readAt reads from off (want bytes, growing up to limit for a record
// larger than want) and parses up to max records.
func (r *spoolReader) readAt(off, want, limit int64, max int) ([]record, int64, error) {
	for {
		r.buf = slices.Grow(r.buf[:0], int(want))[:want]
		if _, err := r.f.ReadAt(r.buf, off); err != nil && !errors.Is(err, io.EOF) {
			return nil, 0, fmt.Errorf("read spool segment: %w", err)
		}
		r.recs = r.recs[:0]
		var n int64
		for len(r.recs) < max {
			rec, size, err := parseRecord(r.buf[n:])
			if err != nil {
				return r.recs, n, err
			}
			if size == 0 {
				break
			}
			r.recs = append(r.recs, rec)
			n += int64(size)
		}
		if len(r.recs) > 0 || off+want >= limit {
			if len(r.recs) == 0 {
				// A record cut at the readable end: its tail is still buffered.
				return nil, 0, nil
			}
			return r.recs, n, nil
		}
		size, ok := bodyLen(r.buf)
		if !ok {
			return nil, 0, fmt.Errorf("%w: length %d", errCorrupt, size)
		}
		want = min(int64(recordHeader+size), limit-off)
	}
}

func (r *spoolReader) open(id uint64, path string) error {
	if r.f != nil && r.fid == id {
		return nil
	}
	r.close()
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open spool segment for replay: %w", err)
	}
	r.f, r.fid = f, id
	return nil
}

func (r *spoolReader) close() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}
