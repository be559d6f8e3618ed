package smartview

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Status is the status object of the API's envelope, {"payLoad": …, "status": {…}}. The 2024
// alerts API nests code and message: {"type", "cause", "info": {"code", "msg"}}; both forms are
// read into StatusCode and Msg.
type Status struct {
	Type       string `json:"type"`       // INFO, ERROR
	StatusCode Text   `json:"statuscode"` // "1000" OK, "3001" invalid level type, "4000" internal error
	Msg        string `json:"msg"`
	Cause      string `json:"cause,omitempty"` // 2024 alerts API: the root cause of an error
}

// UnmarshalJSON implements json.Unmarshaler, reading the flat and the nested ("info") form.
func (s *Status) UnmarshalJSON(data []byte) error {
	type plain Status
	var wire struct {
		plain
		Info *struct {
			Code Text   `json:"code"`
			Msg  string `json:"msg"`
		} `json:"info"`
	}
	if err := json.Unmarshal(data, &wire); err != nil {
		return err
	}
	*s = Status(wire.plain)
	if wire.Info != nil {
		if s.StatusCode == "" {
			s.StatusCode = wire.Info.Code
		}
		if s.Msg == "" {
			s.Msg = wire.Info.Msg
		}
	}
	if s.Cause == "null" {
		s.Cause = ""
	}
	return nil
}

var errNoPayload = errors.New(`no "payLoad" in the answer`)

// Answers are decoded from the stream (see bodyReader): the envelope is walked token by token,
// a list's elements are decoded one at a time, so an answer is never held whole beside what it
// decodes to.

// answer is the shape of one endpoint's answer.
type answer struct {
	// enveloped: the documentation shows {"payLoad": …, "status": {…}}; otherwise the envelope is
	// optional and a bare payload is accepted (alarms, hierarchies, subscriptions).
	enveloped bool
	// payload reads the payload value; the decoder is positioned before it.
	payload func(dec *json.Decoder) error
	// bareArray reads a bare list once its "[" has been read (nil: a bare list is an error).
	bareArray func(dec *json.Decoder) error
	// bareKey, when not "", is a key whose value bareValue reads in a bare object
	// ({"data": […]} without an envelope).
	bareKey   string
	bareValue func(dec *json.Decoder) error
	// bareObject decodes a bare object from its fields (nil: a bare object is an error).
	bareObject func(fields map[string]json.RawMessage) error
	// src, when not nil, is given the reader the answer is read through (see listscan.go).
	src **splitReader
}

// decodeAnswer reads one answer from r. A statuscode other than "1000" is an *APIError, whatever
// the payload.
func decodeAnswer(r io.Reader, a answer) error {
	if a.src == nil {
		return readAnswer(json.NewDecoder(r), a)
	}
	src := newSplitReader(r)
	*a.src = src
	err := readAnswer(json.NewDecoder(src), a)
	// The decoder did not see the bytes the list scanner read: an offset it gives after them
	// counts them too. A stream error ends the reading, so skipped is what was read before it.
	var oe *offsetError
	if src.skipped > 0 && errors.As(err, &oe) {
		oe.offset += src.skipped
	}
	return err
}

// readAnswer reads one answer from dec (see decodeAnswer).
func readAnswer(dec *json.Decoder, a answer) error {
	tok, err := dec.Token()
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("empty body")
	case err != nil:
		return streamError(dec, err)
	case tok == json.Delim('[') && !a.enveloped && a.bareArray != nil:
		return a.bareArray(dec)
	case tok != json.Delim('{'):
		return fmt.Errorf("want a list or an object, got %s", tokenText(tok))
	}
	var status *Status
	var payloadErr error
	seen, bareSeen := false, false
	fields := map[string]json.RawMessage{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return streamError(dec, err)
		}
		key, _ := kt.(string)
		lk := strings.ToLower(key)
		switch {
		case lk == "payload" && !seen:
			err := a.payload(dec)
			if errors.Is(err, errNoPayload) {
				continue // null: as if absent
			}
			seen, payloadErr = true, err
			if err != nil && !recoverable(err) {
				return err
			}
		case !a.enveloped && a.bareKey != "" && strings.EqualFold(key, a.bareKey) && !bareSeen:
			bareSeen = true
			if payloadErr = a.bareValue(dec); payloadErr != nil && !recoverable(payloadErr) {
				return payloadErr
			}
		default:
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return streamError(dec, err)
			}
			if lk == "status" && bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
				var st Status
				if err := json.Unmarshal(raw, &st); err != nil {
					return describeJSONError(raw, err)
				}
				status = &st
				continue
			}
			fields[key] = raw
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return streamError(dec, err)
	}
	if status != nil && status.StatusCode != "" && status.StatusCode != StatusOK {
		return &APIError{HTTPStatus: http.StatusOK, StatusCode: string(status.StatusCode), Msg: status.Msg}
	}
	switch {
	case seen || bareSeen:
		return payloadErr
	case a.enveloped || status != nil || a.bareObject == nil:
		if !a.enveloped && a.bareKey != "" && status == nil {
			return fmt.Errorf("no %q list in the payload", a.bareKey)
		}
		return errNoPayload
	}
	return a.bareObject(fields)
}

// shapeError is a payload of the wrong shape, found with the stream still in step: the rest of
// the answer is read (its status may explain it).
type shapeError struct{ error }

func (s shapeError) Unwrap() error { return s.error }

func recoverable(err error) bool {
	var s shapeError
	return errors.As(err, &s)
}

// decodeEnveloped decodes the payload of an enveloped answer into out.
func decodeEnveloped(r io.Reader, out any) error {
	return decodeAnswer(r, answer{enveloped: true, payload: func(dec *json.Decoder) error { return decodeValue(dec, out) }})
}

// decodeOptionalEnvelope decodes an answer the documentation shows bare (alarms,
// subscriptions), accepting the envelope too; check vets the payload's first byte.
func decodeOptionalEnvelope(r io.Reader, out any) error {
	return decodeAnswer(r, answer{
		payload: func(dec *json.Decoder) error { return decodeValue(dec, out) },
		bareObject: func(fields map[string]json.RawMessage) error {
			obj, err := json.Marshal(fields)
			if err != nil {
				return err
			}
			if err := json.Unmarshal(obj, out); err != nil {
				return describeJSONError(obj, err)
			}
			return nil
		},
	})
}

// nullable decodes a payload value into out, telling null apart (a missing payload).
type nullable struct {
	out  any
	null bool
}

func (n *nullable) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		n.null = true
		return nil
	}
	// b is one whole, valid value (the decoder read it), so for a payload that decodes itself
	// json.Unmarshal would only scan it twice more (validating, then finding its end) before
	// calling the same method with the same bytes: a trending answer's ~2,000 samples.
	var err error
	if u, ok := n.out.(json.Unmarshaler); ok {
		err = u.UnmarshalJSON(b)
	} else {
		err = json.Unmarshal(b, n.out)
	}
	if err != nil {
		return describeJSONError(b, err)
	}
	return nil
}

func decodeValue(dec *json.Decoder, out any) error {
	v := nullable{out: out}
	if err := dec.Decode(&v); err != nil {
		return streamError(dec, err)
	}
	if v.null {
		return shapeError{errNoPayload}
	}
	return nil
}

// fetchList performs r and decodes the list in its answer's payload (see listReader). enveloped
// says whether the documentation shows the answer enveloped; otherwise the envelope is optional.
// check, when not nil, vets each element; its error fails the call like a decode error.
func fetchList[T any](ctx context.Context, c *Client, r request, enveloped bool, key string, check func(*T) error) ([]T, error) {
	chunks, err := fetchChunks(ctx, c, r, enveloped, key, check, nil)
	if err != nil {
		return nil, err
	}
	return join(chunks), nil
}

// fetchChunks is fetchList without the join: the list in the chunks it was decoded in (see
// listReader.next), for a caller that walks it once. A power list of the large footprint is
// ~4.6 MB; joining it allocated and copied it once more (~86 MB of garbage a values cycle).
// pool, when not nil, gives the chunks (see chunkPool).
func fetchChunks[T any](ctx context.Context, c *Client, r request, enveloped bool, key string, check func(*T) error, pool *chunkPool[T]) ([][]T, error) {
	var chunks [][]T
	err := c.do(ctx, r, func(body io.Reader) error {
		lr := &listReader[T]{key: key, check: check, pool: pool}
		err := decodeAnswer(body, lr.answer(enveloped))
		chunks = lr.chunks()
		return err
	})
	if err != nil {
		return nil, err
	}
	return chunks, nil
}

// join returns chunks as one slice: the only chunk itself, else a copy.
func join[T any](chunks [][]T) []T {
	switch len(chunks) {
	case 0:
		return nil
	case 1:
		return chunks[0]
	}
	n := 0
	for _, c := range chunks {
		n += len(c)
	}
	out := make([]T, 0, n)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out
}

// listReader decodes a list payload element by element. With key "" it accepts a JSON array or
// a single object (a one-element list); with a key ("data", "assetDetails") a JSON array or an
// object holding the array under that key, matched case-insensitively. null is an empty list.
type listReader[T any] struct {
	key   string
	check func(*T) error
	pool  *chunkPool[T] // when not nil, every chunk is a full one taken from it
	list  []T           // the elements read (see add)
	full  [][]T         // chunks of listChunk elements before list
	found bool
	src   *splitReader // the answer's reader, for fastElements
	// scanned counts the elements fastElements read (the others were read by encoding/json).
	scanned int
}

// listChunk is the number of elements a long list is gathered in (see add).
const listChunk = 256

// next adds a zero element to the list and returns it to be decoded into (drop takes it back):
// decoded in place, an element is neither allocated on its own nor copied. Past listChunk
// elements the list is gathered in chunks of listChunk, joined once by result: append's growth of
// a long list (1.25× at a time past 256 elements) allocated ~5× the list and copied it ~4× (a
// power list of 5,000 readings of ~900 bytes: 25 MB allocated for 4.6 MB).
func (lr *listReader[T]) next() *T {
	switch {
	case len(lr.list) == listChunk:
		lr.full = append(lr.full, lr.list)
		lr.list = lr.pool.get()
	case lr.list == nil && lr.pool != nil:
		lr.list = lr.pool.get()
	}
	var zero T
	lr.list = append(lr.list, zero)
	return &lr.list[len(lr.list)-1]
}

// chunkPool keeps the chunks of lists their caller is done with (see
// Client.ReleasePowerChunks) for the next list of the type: a values cycle of
// the large footprint decodes ~100,000 power readings of ~1 KB into chunks
// it drops at once after applying them (~106 MB of garbage a cycle). A nil
// pool makes a new chunk each time.
type chunkPool[T any] struct{ p sync.Pool }

// get returns an empty chunk of capacity listChunk whose elements are zero.
func (p *chunkPool[T]) get() []T {
	if p != nil {
		if c, ok := p.p.Get().(*[]T); ok {
			return (*c)[:0]
		}
	}
	return make([]T, 0, listChunk)
}

// put takes chunks back, zeroed so that a pooled chunk keeps nothing alive
// (next zeroes each element it hands out anyway); ones not of listChunk
// capacity are left to the GC.
func (p *chunkPool[T]) put(chunks [][]T) {
	for _, c := range chunks {
		if cap(c) != listChunk {
			continue
		}
		c = c[:listChunk]
		clear(c)
		p.p.Put(&c)
	}
}

// drop removes the element next returned last.
func (lr *listReader[T]) drop() {
	var zero T
	lr.list[len(lr.list)-1] = zero
	lr.list = lr.list[:len(lr.list)-1]
}

// result returns the elements read, in one slice.
func (lr *listReader[T]) result() []T {
	if len(lr.full) == 0 {
		return lr.list
	}
	lr.list, lr.full = join(lr.chunks()), nil
	return lr.list
}

// chunks returns the elements read in the chunks they were read in, in order: none for an
// empty list, else every chunk full but the last, which is not empty.
func (lr *listReader[T]) chunks() [][]T {
	if len(lr.list) == 0 {
		return lr.full // next starts a chunk only to add to it: the last of full is full
	}
	return append(lr.full, lr.list)
}

func (lr *listReader[T]) answer(enveloped bool) answer {
	a := answer{enveloped: enveloped, payload: lr.value, bareArray: lr.elements, bareKey: lr.key, bareValue: lr.array}
	if _, ok := any(new(T)).(json.Unmarshaler); ok {
		a.src = &lr.src // elements that decode themselves can be read by the scanner (listscan.go)
	}
	if lr.key == "" {
		a.bareObject = lr.one
	}
	return a
}

// value reads the payload: an array, null, or an object.
func (lr *listReader[T]) value(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return streamError(dec, err)
	}
	switch {
	case tok == nil:
		return shapeError{errNoPayload}
	case tok == json.Delim('['):
		return lr.elements(dec)
	case tok != json.Delim('{'):
		return shapeError{fmt.Errorf("want a list or an object, got %s", tokenText(tok))}
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return streamError(dec, err)
		}
		key, _ := kt.(string)
		if lr.key != "" && strings.EqualFold(key, lr.key) && !lr.found {
			if err := lr.array(dec); err != nil && !recoverable(err) {
				return err
			}
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return streamError(dec, err)
		}
		if lr.key == "" {
			fields[key] = raw
		}
	}
	if _, err := dec.Token(); err != nil {
		return streamError(dec, err)
	}
	if lr.key == "" {
		return lr.one(fields)
	}
	if !lr.found {
		return shapeError{fmt.Errorf("no %q list in the payload", lr.key)}
	}
	return nil
}

// array reads the value under the list's key: an array, or null (empty); anything else is
// not the list.
func (lr *listReader[T]) array(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return streamError(dec, err)
	}
	switch tok {
	case json.Delim('['):
		return lr.elements(dec)
	case nil:
		lr.found = true
		return nil
	case json.Delim('{'):
		if err := skipRest(dec); err != nil {
			return err
		}
	}
	return shapeError{fmt.Errorf("no %q list in the payload", lr.key)}
}

// elements reads a list's elements once its "[" has been read, and the "]".
func (lr *listReader[T]) elements(dec *json.Decoder) error {
	lr.found = true
	if canScan[T](dec, lr.src) {
		k, done, err := lr.fastElements()
		lr.scanned += k
		switch {
		case err != nil:
			return err
		case !done && k > 0:
			var standIn json.RawMessage // see fastElements
			if err := dec.Decode(&standIn); err != nil {
				return streamError(dec, err)
			}
		}
	}
	for dec.More() {
		e := lr.next()
		if err := dec.Decode(e); err != nil {
			lr.drop()
			return streamError(dec, err)
		}
		if lr.check != nil {
			if err := lr.check(e); err != nil {
				lr.drop()
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return streamError(dec, err)
	}
	return nil
}

// one decodes a single object (a one-element list) from its fields.
func (lr *listReader[T]) one(fields map[string]json.RawMessage) error {
	obj, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	var e T
	if err := json.Unmarshal(obj, &e); err != nil {
		return describeJSONError(obj, err)
	}
	if lr.check != nil {
		if err := lr.check(&e); err != nil {
			return err
		}
	}
	*lr.next() = e
	return nil
}

// skipRest reads to the end of the object or array whose opening token was just read.
func skipRest(dec *json.Decoder) error {
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			return streamError(dec, err)
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// offsetError is invalid JSON at a byte offset of the answer: a syntax error, or the answer
// ending early (err is then io.ErrUnexpectedEOF).
type offsetError struct {
	offset int64
	err    error
}

func (e *offsetError) Error() string {
	if e.err == io.ErrUnexpectedEOF {
		return fmt.Sprintf("invalid JSON at byte %d: the answer ends early: %v", e.offset, e.err)
	}
	return fmt.Sprintf("invalid JSON at byte %d: %v", e.offset, e.err)
}

func (e *offsetError) Unwrap() error { return e.err }

// streamError makes a decoder's error say where it happened.
func streamError(dec *json.Decoder, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return &offsetError{offset: dec.InputOffset(), err: io.ErrUnexpectedEOF}
	case errors.As(err, &syntax):
		return &offsetError{offset: syntax.Offset, err: err}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(top level)"
		}
		return fmt.Errorf("field %s: got JSON %s, want %s", field, typ.Value, typ.Type)
	}
	return err
}

func tokenText(tok json.Token) string {
	switch t := tok.(type) {
	case nil:
		return "null"
	case string:
		return excerpt([]byte(strconv.Quote(t)))
	case json.Delim:
		return string(t)
	}
	return fmt.Sprint(tok)
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
