package smartview

import "context"

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
// levelValue "CH1", or "CAGE" with a cage's unique space id.
func (c *Client) Environment(ctx context.Context, ibx, levelType, levelValue string) (*Environment, error) {
	return nil, errNotImplemented
}

// EnvironmentList fetches the current environment of every value of a level type in ibx.
func (c *Client) EnvironmentList(ctx context.Context, ibx, levelType string) ([]Environment, error) {
	return nil, errNotImplemented
}
