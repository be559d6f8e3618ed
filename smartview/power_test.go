package smartview

// Why this file: PowerListChunks hands the values cycle a power list in the chunks it was
// decoded in instead of PowerList's one slice; the readings, their order, their times and the
// errors must be PowerList's.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestPowerListChunksAsPowerList serves lists around the chunk size in every answer shape of
// the list tests (and answers that fail before, inside and after the list) and compares the
// chunks, joined, with PowerList's answer and with encoding/json's reading of the list. The
// chunks are released after each list, so later lists are decoded into chunks that held
// others: the lists alternate which members they have (a member absent from a reading must
// read as absent, not as the last reading's), and the lists read earlier (copied out of their
// chunks before the release, comparisons by pointer) must stay as they were.
func TestPowerListChunksAsPowerList(t *testing.T) {
	api := newTestAPI(t)
	var body []byte
	api.handle("POST /power/v1/current", func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
	cfg := api.config()
	cfg.TimeZone = "Asia/Singapore" // times are localized chunk by chunk
	c := api.client(cfg, Options{})
	ctx := context.Background()
	type keptList struct{ got, want []Power }
	var kept []keptList // every list read, after its chunks were released
	defer func() {
		for i, k := range kept {
			if len(k.got) > 0 && !reflect.DeepEqual(k.got, k.want) {
				t.Errorf("list %d of %d readings changed after its chunks were released", i, len(k.got))
			}
		}
	}()
	for _, n := range []int{0, 1, listChunk - 1, listChunk, listChunk + 1, 2 * listChunk, 3*listChunk + 5} {
		elems := make([]string, n)
		for i := range elems {
			if n%2 == 1 {
				elems[i] = fmt.Sprintf(`{"ibx":"SV4","levelType":"CIRCUIT","levelValue":"SV4:%d","kva":%d.5,"readingTime":%d,`+
					`"lastUpdatedTime":"2019032402%02d%02d","comparisonData":{"datapoint":"kva","yesterday":%d}}`, i, i, 1552275932446+int64(i)*1000, i/60%60, i%60, i%3)
			} else {
				elems[i] = fmt.Sprintf(`{"ibx":"SV5","levelValue":"SV5:%d","amps":%d}`, i, i)
			}
		}
		var want []Power // encoding/json's reading, localized as PowerList does
		if err := json.Unmarshal([]byte("["+strings.Join(elems, ",")+"]"), &want); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			want[i].localize(c.zone)
		}
		for k, b := range listBodies(elems...) {
			body = b
			list, err := c.PowerList(ctx, "SV4", LevelCircuit)
			chunks, cerr := c.PowerListChunks(ctx, "SV4", LevelCircuit)
			if fmt.Sprint(err) != fmt.Sprint(cerr) {
				t.Fatalf("%d readings, body %d: PowerList's error %v, PowerListChunks' %v", n, k, err, cerr)
			}
			if err != nil {
				if chunks != nil {
					t.Errorf("%d readings, body %d: chunks with the error %v", n, k, cerr)
				}
				continue
			}
			var joined []Power
			for i, chunk := range chunks {
				if len(chunk) == 0 || len(chunk) > listChunk || (i < len(chunks)-1 && len(chunk) != listChunk) {
					t.Errorf("%d readings, body %d: chunk %d of %d holds %d", n, k, i, len(chunks), len(chunk))
				}
				joined = append(joined, chunk...)
			}
			kept = append(kept, keptList{joined, want})
			c.ReleasePowerChunks(chunks)
			if len(joined) != n || len(list) != n || (n > 0 && (!reflect.DeepEqual(joined, want) || !reflect.DeepEqual(list, want))) {
				t.Errorf("%d readings, body %d: chunks hold %d, PowerList %d; differ from encoding/json's list", n, k, len(joined), len(list))
			}
		}
	}
}
