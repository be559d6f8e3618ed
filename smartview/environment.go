package smartview

import (
	"context"
	"io"
)

// Level types for the environment endpoints (the API also accepts them in lower case).
const (
	LevelIBX     = "IBX"
	LevelZone    = "ZONE"
	LevelCage    = "CAGE"
	LevelCabinet = "CABINET"
	LevelSensor  = "SENSOR"
	LevelCircuit = "CIRCUIT"
)

// Environment is temperature and humidity at one level (IBX, zone, cage, sensor), from the
// environment endpoints or an environment_updated event. "ALL" in a location field means the
// reading covers every value of that level.
type Environment struct {
	IBX            string `json:"ibx"`
	AccountNo      Text   `json:"accountNo"`
	Zone           string `json:"zone"`
	Cage           string `json:"cage"`
	Cabinet        string `json:"cabinet"`
	Sensor         string `json:"sensor"`
	Temperature    Number `json:"temperature"`
	Humidity       Number `json:"humidity"`
	Timestamp      Time   `json:"timestamp"` // epoch milliseconds
	TemperatureUOM string `json:"temperatureUom"`
	HumidityUOM    string `json:"humidityUom"`

	// Feed-only: extremes over a period the documentation leaves open.
	MinTemperature Number `json:"minTemperature"`
	MaxTemperature Number `json:"maxTemperature"`
	MinHumidity    Number `json:"minHumidity"`
	MaxHumidity    Number `json:"maxHumidity"`
}

// environmentFields decodes an Environment without reflection (see objectFields).
var environmentFields = newObjectFields(map[string]func(*Environment) any{
	"ibx": func(e *Environment) any { return &e.IBX }, "accountNo": func(e *Environment) any { return &e.AccountNo },
	"zone": func(e *Environment) any { return &e.Zone }, "cage": func(e *Environment) any { return &e.Cage },
	"cabinet": func(e *Environment) any { return &e.Cabinet }, "sensor": func(e *Environment) any { return &e.Sensor },
	"temperature": func(e *Environment) any { return &e.Temperature }, "humidity": func(e *Environment) any { return &e.Humidity },
	"timestamp": func(e *Environment) any { return &e.Timestamp }, "temperatureUom": func(e *Environment) any { return &e.TemperatureUOM },
	"humidityUom": func(e *Environment) any { return &e.HumidityUOM }, "minTemperature": func(e *Environment) any { return &e.MinTemperature },
	"maxTemperature": func(e *Environment) any { return &e.MaxTemperature }, "minHumidity": func(e *Environment) any { return &e.MinHumidity },
	"maxHumidity": func(e *Environment) any { return &e.MaxHumidity },
})

// UnmarshalJSON implements json.Unmarshaler, as encoding/json would decode the struct by its tags.
func (e *Environment) UnmarshalJSON(data []byte) error { return environmentFields.decode(data, e) }

// Environment fetches the current environment at one level value, e.g. levelType "IBX" with
// levelValue "CH1", or "CAGE" with a cage's unique space id. An invalid levelType is an error
// matching ErrInvalidLevelType.
func (c *Client) Environment(ctx context.Context, ibx, levelType, levelValue string) (*Environment, error) {
	r := c.get(endpointEnvironment, routeEnvironmentCurrent,
		"ibx", ibx, "levelType", levelType, "levelValue", levelValue)
	var e Environment
	if err := c.do(ctx, r, func(body io.Reader) error { return decodeEnveloped(body, &e) }); err != nil {
		return nil, err
	}
	e.Timestamp = e.Timestamp.InLocation(c.zone)
	return &e, nil
}

// EnvironmentList fetches the current environment of every value of a level type in ibx.
func (c *Client) EnvironmentList(ctx context.Context, ibx, levelType string) ([]Environment, error) {
	chunks, err := c.EnvironmentListChunks(ctx, ibx, levelType)
	if err != nil {
		return nil, err
	}
	return join(chunks), nil
}

// EnvironmentListChunks is EnvironmentList's answer in the chunks it was decoded in, as
// PowerListChunks is PowerList's; ReleaseEnvironmentChunks takes them back for reuse.
func (c *Client) EnvironmentListChunks(ctx context.Context, ibx, levelType string) ([][]Environment, error) {
	r := c.get(endpointEnvironmentList, routeEnvironmentList, "ibx", ibx, "levelType", levelType)
	chunks, err := fetchChunks[Environment](ctx, c, r, true, "data", nil, &environmentChunks)
	if err != nil {
		return nil, err
	}
	for _, chunk := range chunks {
		for i := range chunk {
			chunk[i].Timestamp = chunk[i].Timestamp.InLocation(c.zone)
		}
	}
	return chunks, nil
}

// environmentChunks keeps the chunks of environment lists released (see ReleaseEnvironmentChunks).
var environmentChunks chunkPool[Environment]

// ReleaseEnvironmentChunks hands back the chunks EnvironmentListChunks returned, as
// ReleasePowerChunks does for power lists.
func (*Client) ReleaseEnvironmentChunks(chunks [][]Environment) { environmentChunks.put(chunks) }

func (*Environment) memberTable() *objectFields[Environment] { return environmentFields }
