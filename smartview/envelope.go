package smartview

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Status is the status object of the API's envelope, {"payLoad": …, "status": {…}}.
type Status struct {
	Type       string `json:"type"`       // INFO, ERROR
	StatusCode Text   `json:"statuscode"` // "1000" OK, "3001" invalid level type, "4000" internal error
	Msg        string `json:"msg"`
}

type envelope struct {
	PayLoad json.RawMessage `json:"payLoad"`
	Payload json.RawMessage `json:"payload"` // tolerated spelling
	Status  *Status         `json:"status"`
}

var errNoPayload = errors.New(`no "payLoad" in the answer`)

// unwrapEnvelope returns the payload of an enveloped answer, or an *APIError when its statuscode
// is not "1000" (whatever the HTTP status was).
func unwrapEnvelope(body []byte) (json.RawMessage, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, describeJSONError(body, err)
	}
	if env.Status != nil && env.Status.StatusCode != "" && env.Status.StatusCode != StatusOK {
		return nil, &APIError{HTTPStatus: http.StatusOK, StatusCode: string(env.Status.StatusCode), Msg: env.Status.Msg}
	}
	payload := env.PayLoad
	if isNull(payload) {
		payload = env.Payload
	}
	if isNull(payload) {
		return nil, errNoPayload
	}
	return payload, nil
}

// unwrapOptionalEnvelope returns the payload of an answer the documentation shows bare (alarms,
// hierarchies, subscriptions), accepting the envelope too.
func unwrapOptionalEnvelope(body []byte) (json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, errors.New("empty body")
	}
	if trimmed[0] != '{' {
		return trimmed, nil
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &probe); err != nil {
		return nil, describeJSONError(body, err)
	}
	for k, v := range probe {
		lk := strings.ToLower(k)
		if lk == "payload" || (lk == "status" && bytes.HasPrefix(bytes.TrimSpace(v), []byte("{"))) {
			return unwrapEnvelope(trimmed)
		}
	}
	return trimmed, nil
}

// decodeEnveloped decodes the payload of an enveloped answer into out.
func decodeEnveloped(body []byte, out any) error {
	payload, err := unwrapEnvelope(body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(payload, out); err != nil {
		return describeJSONError(payload, err)
	}
	return nil
}

// fetchList performs r and decodes the list in its answer's payload (see decodeList). enveloped
// says whether the documentation shows the answer enveloped; otherwise the envelope is optional.
// check, when not nil, vets each element; its error fails the call like a decode error.
func fetchList[T any](ctx context.Context, c *Client, r request, enveloped bool, key string, check func(*T) error) ([]T, error) {
	unwrap := unwrapOptionalEnvelope
	if enveloped {
		unwrap = unwrapEnvelope
	}
	var list []T
	err := c.do(ctx, r, func(body []byte) error {
		payload, err := unwrap(body)
		if err != nil {
			return err
		}
		if list, err = decodeList[T](payload, key); err != nil {
			return err
		}
		for i := range list {
			if check != nil {
				if err := check(&list[i]); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

// decodeList decodes a list payload. With key "" it accepts a JSON array or a single object
// (a one-element list); with a key ("data", "assetDetails") a JSON array or an object holding the
// array under that key, matched case-insensitively. null is an empty list.
func decodeList[T any](payload json.RawMessage, key string) ([]T, error) {
	payload = bytes.TrimSpace(payload)
	if isNull(payload) {
		return nil, nil
	}
	switch {
	case payload[0] == '[':
		var list []T
		if err := json.Unmarshal(payload, &list); err != nil {
			return nil, describeJSONError(payload, err)
		}
		return list, nil
	case payload[0] == '{' && key == "":
		var one T
		if err := json.Unmarshal(payload, &one); err != nil {
			return nil, describeJSONError(payload, err)
		}
		return []T{one}, nil
	case payload[0] == '{':
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(payload, &fields); err != nil {
			return nil, describeJSONError(payload, err)
		}
		list, ok := lookupFold(fields, key)
		if t := bytes.TrimSpace(list); !ok || (!isNull(t) && t[0] != '[') {
			return nil, fmt.Errorf("no %q list in the payload", key)
		}
		return decodeList[T](list, "")
	default:
		return nil, fmt.Errorf("want a list or an object, got %s", excerpt(payload))
	}
}

func isNull(data json.RawMessage) bool {
	t := bytes.TrimSpace(data)
	return len(t) == 0 || string(t) == "null"
}

// describeJSONError makes a JSON error say where it happened: the byte offset of a syntax error,
// or the field and the wrong type.
func describeJSONError(data []byte, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return errors.New("empty body")
	case errors.As(err, &syntax):
		return fmt.Errorf("invalid JSON at byte %d of %d: %w", syntax.Offset, len(data), err)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(top level)"
		}
		return fmt.Errorf("field %s: got JSON %s, want %s", field, typ.Value, typ.Type)
	}
	return err
}
