package uaserver

// FuzzDecodeRequest is the fuzz target of the bounded request decoder
// alone (FuzzOpenChunk reaches it only through a chunk's security):
// test/fuzz-campaign.sh runs it for a stated time; crashes are kept under
// testdata/fuzz as regression inputs.

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzDecodeRequest: any service body is decoded or refused with an error;
// the bounded walk refuses everything gopcua's decoder would panic on (the
// recover behind it is a last resort, never the check), and what it accepts
// is a request with a header. (Re-encoding is no property: a header's
// ExtensionObject with unknown encoding bits decodes, with no body, but
// gopcua cannot encode it again; the server never re-encodes a request.)
func FuzzDecodeRequest(f *testing.F) {
	for _, req := range testRequests() {
		b, err := encodeService(req)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := decodeRequest(bytes.Clone(b))
		if err != nil {
			if strings.Contains(err.Error(), "decoder panic") {
				t.Fatalf("the bounded walk let through a body gopcua panics on: %v", err)
			}
			_ = decodeRequestHeader(b)
			return
		}
		if req.Header() == nil {
			t.Fatalf("%T accepted without a request header", req)
		}
	})
}
