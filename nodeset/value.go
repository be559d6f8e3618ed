package nodeset

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gopcua/opcua/ua"
)

// typesXSD is the namespace of values in NodeSet2 files.
const typesXSD = "http://opcfoundation.org/UA/2008/02/Types.xsd"

// xmlValue is a Value element's content: one element, a scalar or a ListOf.
type xmlValue struct {
	XMLName  xml.Name
	Text     string     `xml:",chardata"`
	Locale   string     `xml:"Locale"`
	LText    string     `xml:"Text"`
	Children []xmlValue `xml:",any"`
}

// DecodeValue returns the node's Value as a Variant, or nil when the node
// has none. It supports the scalars Boolean, Int32, UInt32, Double, String,
// DateTime and LocalizedText and ListOf those but DateTime; anything else is
// an error.
func (n *Node) DecodeValue() (*ua.Variant, error) {
	if n.Value == "" {
		return nil, nil
	}
	var x xmlValue
	if err := xml.Unmarshal([]byte(n.Value), &x); err != nil {
		return nil, fmt.Errorf("nodeset: %s: value: %w", n.NodeID, err)
	}
	v, err := x.decode()
	if err != nil {
		return nil, fmt.Errorf("nodeset: %s: value: %w", n.NodeID, err)
	}
	return ua.NewVariant(v)
}

func (x *xmlValue) decode() (any, error) {
	name := x.XMLName.Local
	if list, ok := strings.CutPrefix(name, "ListOf"); ok {
		switch list {
		case "Boolean":
			return decodeList[bool](x, list)
		case "Int32":
			return decodeList[int32](x, list)
		case "UInt32":
			return decodeList[uint32](x, list)
		case "Double":
			return decodeList[float64](x, list)
		case "String":
			return decodeList[string](x, list)
		case "LocalizedText":
			return decodeList[*ua.LocalizedText](x, list)
		}
		return nil, fmt.Errorf("unsupported value type %s", name)
	}
	return x.scalar()
}

func decodeList[T any](x *xmlValue, elem string) ([]T, error) {
	out := make([]T, 0, len(x.Children))
	for i := range x.Children {
		c := &x.Children[i]
		if c.XMLName.Local != elem {
			return nil, fmt.Errorf("ListOf%s holds a %s", elem, c.XMLName.Local)
		}
		v, err := c.scalar()
		if err != nil {
			return nil, err
		}
		out = append(out, v.(T))
	}
	return out, nil
}

func (x *xmlValue) scalar() (any, error) {
	s := strings.TrimSpace(x.Text)
	switch x.XMLName.Local {
	case "Boolean":
		return strconv.ParseBool(s)
	case "Int32":
		v, err := strconv.ParseInt(s, 10, 32)
		return int32(v), err
	case "UInt32":
		v, err := strconv.ParseUint(s, 10, 32)
		return uint32(v), err
	case "Double":
		return strconv.ParseFloat(s, 64)
	case "String":
		return x.Text, nil
	case "DateTime":
		t, err := time.Parse(time.RFC3339Nano, s)
		return t.UTC(), err
	case "LocalizedText":
		return ua.NewLocalizedTextWithLocale(x.LText, strings.TrimSpace(x.Locale)), nil
	}
	return nil, fmt.Errorf("unsupported value type %s", x.XMLName.Local)
}
