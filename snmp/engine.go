package snmp

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/svgateway/svgateway/internal/atomicfile"
)

// EngineFile is where OpenEngine keeps the engine ID and boots counter,
// relative to the gateway's state directory.
const EngineFile = "snmp/engine.json"

// Engine is the gateway's SNMPv3 engine (RFC 3411): a stable engine ID, a
// boots counter incremented and saved at every start, and the engine time.
// The standalone agent is authoritative with it; the notification sender
// sends v3 traps with it, so managers that know its ID and see its boots
// grow accept them after a restart. Safe for concurrent use.
type Engine struct {
	id    []byte
	boots uint32
	start time.Time
}

type engineFile struct {
	EngineID string `json:"engine_id"` // hex
	Boots    uint32 `json:"boots"`
}

// OpenEngine loads the engine state from stateDir/snmp/engine.json,
// increments the boots counter and saves it before returning. configuredID
// (hex, may be empty) overrides the stored ID; a new ID starts boots at 1.
// Without a stored or configured ID one is generated (RFC 3411 format 5:
// the enterprise number of the MIB root, then 8 random octets). stateDir ""
// keeps everything in memory (tests).
func OpenEngine(stateDir, configuredID string) (*Engine, error) {
	e := &Engine{start: time.Now()}
	var id []byte
	if configuredID != "" {
		var err error
		if id, err = parseEngineID(configuredID); err != nil {
			return nil, fmt.Errorf("snmp: engine_id: %w", err)
		}
	}
	var st engineFile
	path := ""
	if stateDir != "" {
		path = filepath.Join(stateDir, filepath.FromSlash(EngineFile))
		data, err := os.ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("snmp: reading engine state: %w", err)
		default:
			if err := json.Unmarshal(data, &st); err != nil {
				return nil, fmt.Errorf("snmp: engine state %s is corrupt (%w); remove it to start a new engine (managers must then learn the new engine ID)", path, err)
			}
		}
	}
	stored, _ := hex.DecodeString(st.EngineID)
	switch {
	case id == nil && len(stored) > 0:
		id = stored
	case id == nil:
		id = generateEngineID()
	}
	if !bytes.Equal(id, stored) {
		st.Boots = 0
	}
	if st.Boots < math.MaxInt32 { // RFC 3414: 2147483647 latches
		st.Boots++
	}
	e.id, e.boots = id, st.Boots
	if path != "" {
		data, _ := json.Marshal(engineFile{EngineID: hex.EncodeToString(id), Boots: st.Boots})
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("snmp: saving engine state: %w", err)
		}
		if err := atomicfile.Write(path, data, 0o644); err != nil {
			return nil, fmt.Errorf("snmp: saving engine state: %w", err)
		}
	}
	return e, nil
}

// generateEngineID returns an RFC 3411 engine ID of format 5 (octets) under
// the enterprise number of the MIB root.
func generateEngineID() []byte {
	pen := uint32(0)
	if len(rootOID) > 6 && rootOID[:6].Equal(OID{1, 3, 6, 1, 4, 1}) {
		pen = rootOID[6]
	}
	id := []byte{byte(pen>>24) | 0x80, byte(pen >> 16), byte(pen >> 8), byte(pen), 5, 0, 0, 0, 0, 0, 0, 0, 0}
	rand.Read(id[5:])
	return id
}

// ID returns the engine ID.
func (e *Engine) ID() []byte { return bytes.Clone(e.id) }

// Boots returns snmpEngineBoots: the number of starts of this engine ID.
func (e *Engine) Boots() uint32 { return e.boots }

// Time returns snmpEngineTime: seconds since this start.
func (e *Engine) Time() uint32 { return uint32(min(time.Since(e.start)/time.Second, math.MaxInt32)) }

// Uptime returns the time since this start in hundredths of a second
// (sysUpTime, and the first varbind of every notification).
func (e *Engine) Uptime() uint32 { return uint32(time.Since(e.start) / (10 * time.Millisecond)) }
