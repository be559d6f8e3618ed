package smartview

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// List endpoints accept the documented {"totalCount","data"} wrapper, a bare array, and null;
// a wrapper without its list is an error, not an empty result.
func TestListPayloadShapes(t *testing.T) {
	const item = `{"ibx":"CH1","zone":"Z","temperature":"20.5"}`
	tests := []struct {
		name, payLoad string
		want          int
		wantErr       string
	}{
		{"documented wrapper", `{"totalCount":2,"data":[` + item + `,` + item + `]}`, 2, ""},
		{"wrapper with null data", `{"totalCount":0,"data":null}`, 0, ""},
		{"bare array", `[` + item + `]`, 1, ""},
		{"null", `null`, 0, "no \"payLoad\""},
		{"wrapper without data", `{"totalCount":1}`, 0, `no "data" list in the payload`},
		{"data not a list", `{"data":` + item + `}`, 0, `no "data" list in the payload`},
		{"a string", `"x"`, 0, "want a list or an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newTestAPI(t)
			api.handle("GET /environment/v1/listCurrent", func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"payLoad":` + tt.payLoad + `,"status":{"type":"INFO","statuscode":"1000","msg":"OK"}}`))
			})
			list, err := api.defaultClient().EnvironmentList(context.Background(), "CH1", LevelZone)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(list) != tt.want {
				t.Fatalf("got %d, %v", len(list), err)
			}
			if tt.want > 0 && list[0].Temperature.Value != 20.5 {
				t.Errorf("item %+v", list[0])
			}
		})
	}
}

// Hierarchies are documented bare; an envelope (and its error status) is understood too.
func TestHierarchyEnvelope(t *testing.T) {
	api := newTestAPI(t)
	bodies := []string{
		`{"payLoad":[{"levelType":"IBX","levelValue":"SV4","label":"SV4","children":[]}],"status":{"statuscode":"1000"}}`,
		string(docExample(t, "error_4000.json")),
	}
	n := 0
	api.handle("GET /hierarchy/v1/location", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(bodies[n]))
		n++
	})
	c := api.defaultClient()
	nodes, err := c.LocationHierarchy(context.Background(), "SV4")
	if err != nil || len(nodes) != 1 || nodes[0].Label != "SV4" {
		t.Errorf("got %+v, %v", nodes, err)
	}
	if _, err := c.LocationHierarchy(context.Background(), "SV4"); err == nil || !strings.Contains(err.Error(), "INTERNAL_ERROR") {
		t.Errorf("err = %v", err)
	}
}
