package snmp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/svgateway/svgateway/internal/atomicfile"
)

// Index spaces: each assigns table indexes to one kind of SmartView
// identity. Every location level shares one space, so the power and
// environment tables can use a location's index.
const (
	spaceLocations = "locations" // key: LocationID.String()
	spaceAssets    = "assets"    // key: IBX + "/" + asset id
	spaceTags      = "tags"      // key: IBX + "/" + tag id
)

// indexes assigns table indexes to SmartView identities, once: an index
// keeps its identity forever (also after the identity disappears, so it
// gets it back if it reappears) and is never given to another. It is kept
// in a JSON file written atomically whenever new identities were assigned.
type indexes struct {
	mu     sync.Mutex
	path   string // "" keeps them in memory only
	spaces map[string]*indexSpace
	dirty  bool // assignments not yet written
}

type indexSpace struct {
	Next uint32            `json:"next"` // the next index to assign
	IDs  map[string]uint32 `json:"ids"`
}

type indexFile struct {
	Version int                    `json:"version"`
	Spaces  map[string]*indexSpace `json:"spaces"`
}

const indexFileVersion = 1

// openIndexes loads the index file at path, or starts empty when it does
// not exist. A file that cannot be read or is inconsistent is an error:
// starting without it would renumber every table.
func openIndexes(path string) (*indexes, error) {
	x := &indexes{path: path, spaces: map[string]*indexSpace{}}
	for _, s := range []string{spaceLocations, spaceAssets, spaceTags} {
		x.spaces[s] = &indexSpace{Next: 1, IDs: map[string]uint32{}}
	}
	if path == "" {
		return x, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return x, nil
	}
	if err != nil {
		return nil, fmt.Errorf("snmp: reading table indexes: %w", err)
	}
	var f indexFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("snmp: table index file %s is corrupt (%w); restore it or remove it to renumber every table", path, err)
	}
	if f.Version != indexFileVersion {
		return nil, fmt.Errorf("snmp: table index file %s has version %d, want %d", path, f.Version, indexFileVersion)
	}
	for name, sp := range f.Spaces {
		if _, known := x.spaces[name]; !known || sp == nil {
			return nil, fmt.Errorf("snmp: table index file %s: unknown index space %q", path, name)
		}
		if sp.IDs == nil {
			sp.IDs = map[string]uint32{}
		}
		seen := make(map[uint32]string, len(sp.IDs))
		for id, n := range sp.IDs {
			if n == 0 || n >= sp.Next {
				return nil, fmt.Errorf("snmp: table index file %s: %s index %d of %q is outside 1..%d", path, name, n, id, sp.Next-1)
			}
			if other, dup := seen[n]; dup {
				return nil, fmt.Errorf("snmp: table index file %s: %s index %d is given to both %q and %q", path, name, n, other, id)
			}
			seen[n] = id
		}
		x.spaces[name] = sp
	}
	return x, nil
}

// assign returns the index of each key in space, assigning the next free
// index to keys never seen before.
func (x *indexes) assign(space string, keys []string) ([]uint32, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	sp := x.spaces[space]
	out := make([]uint32, len(keys))
	for i, k := range keys {
		n, ok := sp.IDs[k]
		if !ok {
			if sp.Next == math.MaxUint32 {
				return nil, fmt.Errorf("snmp: the %s index space is exhausted", space)
			}
			n = sp.Next
			sp.Next++
			sp.IDs[k] = n
			x.dirty = true
		}
		out[i] = n
	}
	return out, nil
}

// save writes the file if assignments were made since the last save.
func (x *indexes) save() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.dirty || x.path == "" {
		return nil
	}
	data, err := json.Marshal(indexFile{Version: indexFileVersion, Spaces: x.spaces})
	if err != nil {
		return fmt.Errorf("snmp: encoding table indexes: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(x.path), 0o755); err != nil {
		return fmt.Errorf("snmp: saving table indexes: %w", err)
	}
	if err := atomicfile.Write(x.path, data, 0o644); err != nil {
		return fmt.Errorf("snmp: saving table indexes: %w", err)
	}
	x.dirty = false
	return nil
}
