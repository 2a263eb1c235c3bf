package screenlock

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// GVDB is the binary format of dconf databases (~/.config/dconf/user and
// the compiled system databases /etc/dconf/db/NAME). The layout, from
// GLib's gvdb-format.h: a 24-byte header ("GVariant" signature, version,
// options, pointer to the root hash table), then hash tables made of a
// bloom filter, buckets and 24-byte items. Each item names its parent
// item, so a key's full path is its parents' keys joined; a 'v' item
// points at a serialized GVariant of type "v", an 'H' item at a nested
// table (dconf keeps locks in the ".locks" table), an 'L' item at the
// list of its children. Only reading is implemented, with every pointer
// bounds-checked because the user owns their database file.

var (
	gvdbSignature        = []byte("GVariant")
	gvdbSwappedSignature = []byte("raVGtnai")
	errGVDB              = errors.New("not a valid GVDB (dconf) database")
)

const (
	gvdbHeaderSize = 24
	gvdbItemSize   = 24
	gvdbMaxItems   = 1 << 20
	gvdbNoParent   = math.MaxUint32
	gvdbMaxKeyLen  = 4096
)

// gvdbTable is a decoded GVDB hash table: the text form of each value by
// full key, and the nested tables by name.
type gvdbTable struct {
	values map[string]string
	tables map[string]*gvdbTable
}

// parseGVDB decodes a dconf database file.
func parseGVDB(b []byte) (*gvdbTable, error) {
	if len(b) < gvdbHeaderSize {
		return nil, fmt.Errorf("%w: %d bytes is shorter than its header", errGVDB, len(b))
	}
	var bo binary.ByteOrder
	switch string(b[:8]) {
	case string(gvdbSignature):
		bo = binary.LittleEndian
	case string(gvdbSwappedSignature):
		bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("%w: bad signature", errGVDB)
	}
	if v := bo.Uint32(b[8:]); v != 0 {
		return nil, fmt.Errorf("%w: version %d", errGVDB, v)
	}
	// Every item of a well-formed file belongs to one table, so a file
	// holds at most len(b)/gvdbItemSize items in all; tables referenced
	// more than once would otherwise multiply the work at each level.
	budget := uint64(len(b) / gvdbItemSize)
	p := gvdbReader{b: b, bo: bo, budget: &budget}
	return p.table(bo.Uint32(b[16:]), bo.Uint32(b[20:]), 0)
}

type gvdbReader struct {
	b  []byte
	bo binary.ByteOrder
	// budget is how many more items may be decoded.
	budget *uint64
}

// slice returns b[start:end] if the pointer is inside the file.
func (p gvdbReader) slice(start, end uint32) ([]byte, bool) {
	if start > end || uint64(end) > uint64(len(p.b)) {
		return nil, false
	}
	return p.b[start:end], true
}

type gvdbItem struct {
	parent   uint32
	key      string
	typ      byte
	start    uint32
	end      uint32
	fullDone bool
	full     string
}

func (p gvdbReader) table(start, end uint32, depth int) (*gvdbTable, error) {
	if depth > 2 {
		return nil, fmt.Errorf("%w: tables nested too deep", errGVDB)
	}
	t, ok := p.slice(start, end)
	if !ok || len(t) < 8 {
		return nil, fmt.Errorf("%w: hash table outside the file", errGVDB)
	}
	nBloom := uint64(p.bo.Uint32(t) & (1<<27 - 1))
	nBuckets := uint64(p.bo.Uint32(t[4:]))
	off := 8 + 4*nBloom + 4*nBuckets
	if off > uint64(len(t)) {
		return nil, fmt.Errorf("%w: hash table header larger than the table", errGVDB)
	}
	n := (uint64(len(t)) - off) / gvdbItemSize
	if n > gvdbMaxItems || n > *p.budget {
		return nil, fmt.Errorf("%w: %d items, more than the file can hold", errGVDB, n)
	}
	*p.budget -= n
	items := make([]gvdbItem, n)
	for i := range items {
		raw := t[off+uint64(i)*gvdbItemSize:]
		keyStart, keySize := p.bo.Uint32(raw[8:]), uint32(p.bo.Uint16(raw[12:]))
		key, ok := p.slice(keyStart, keyStart+keySize)
		if !ok || keyStart+keySize < keyStart {
			return nil, fmt.Errorf("%w: key outside the file", errGVDB)
		}
		items[i] = gvdbItem{parent: p.bo.Uint32(raw[4:]), key: string(key), typ: raw[14], start: p.bo.Uint32(raw[16:]), end: p.bo.Uint32(raw[20:])}
	}
	out := &gvdbTable{values: map[string]string{}, tables: map[string]*gvdbTable{}}
	for i := range items {
		full, err := fullKey(items, i)
		if err != nil {
			return nil, err
		}
		it := items[i]
		switch it.typ {
		case 'v':
			data, ok := p.slice(it.start, it.end)
			if !ok {
				return nil, fmt.Errorf("%w: value of %s outside the file", errGVDB, full)
			}
			if s, ok := gvariantText(data, p.bo); ok {
				out.values[full] = s
			}
		case 'H':
			sub, err := p.table(it.start, it.end, depth+1)
			if err != nil {
				return nil, err
			}
			out.tables[full] = sub
		}
	}
	return out, nil
}

// fullKey joins an item's key to its ancestors', memoizing each item's
// full key so that a hostile file cannot make the walk quadratic, and
// refusing parent loops.
func fullKey(items []gvdbItem, i int) (string, error) {
	var chain []int
	for j := uint32(i); j != gvdbNoParent; j = items[j].parent {
		if uint64(j) >= uint64(len(items)) || len(chain) > len(items) {
			return "", fmt.Errorf("%w: bad parent of %q", errGVDB, items[i].key)
		}
		if items[j].fullDone {
			break
		}
		chain = append(chain, int(j))
	}
	for k := len(chain) - 1; k >= 0; k-- {
		it := &items[chain[k]]
		prefix := ""
		if it.parent != gvdbNoParent {
			prefix = items[it.parent].full
		}
		if len(prefix)+len(it.key) > gvdbMaxKeyLen {
			return "", fmt.Errorf("%w: key longer than %d bytes", errGVDB, gvdbMaxKeyLen)
		}
		it.full, it.fullDone = prefix+it.key, true
	}
	return items[i].full, nil
}

// gvariantText renders a serialized variant ("v": the child's bytes, a
// zero byte, the child's type string) as dconf's text form for the basic
// types screen-lock settings use. Other types are skipped.
func gvariantText(v []byte, bo binary.ByteOrder) (string, bool) {
	sep := -1
	for i := len(v) - 1; i >= 0; i-- {
		if v[i] == 0 {
			sep = i
			break
		}
	}
	if sep < 0 {
		return "", false
	}
	data, typ := v[:sep], string(v[sep+1:])
	fixed := map[string]int{"b": 1, "y": 1, "n": 2, "q": 2, "i": 4, "u": 4, "x": 8, "t": 8, "d": 8}
	if size, ok := fixed[typ]; ok && len(data) != size {
		return "", false
	}
	switch typ {
	case "b":
		return strconv.FormatBool(data[0] != 0), true
	case "y":
		return strconv.Itoa(int(data[0])), true
	case "n":
		return strconv.Itoa(int(int16(bo.Uint16(data)))), true
	case "q":
		return strconv.Itoa(int(bo.Uint16(data))), true
	case "i":
		return strconv.FormatInt(int64(int32(bo.Uint32(data))), 10), true
	case "u":
		return strconv.FormatUint(uint64(bo.Uint32(data)), 10), true
	case "x":
		return strconv.FormatInt(int64(bo.Uint64(data)), 10), true
	case "t":
		return strconv.FormatUint(bo.Uint64(data), 10), true
	case "d":
		return strconv.FormatFloat(math.Float64frombits(bo.Uint64(data)), 'g', -1, 64), true
	case "s":
		if len(data) == 0 || data[len(data)-1] != 0 {
			return "", false
		}
		return string(data[:len(data)-1]), true
	}
	return "", false
}
