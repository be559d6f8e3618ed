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
	r := c.get(endpointEnvironmentList, routeEnvironmentList, "ibx", ibx, "levelType", levelType)
	list, err := fetchList[Environment](ctx, c, r, true, "data", nil)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Timestamp = list[i].Timestamp.InLocation(c.zone)
	}
	return list, nil
}
