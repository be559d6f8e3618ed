package smartview

import "context"

// Power is power draw at one level (IBX, cage, cabinet, circuit), from the power endpoints or a
// power_updated event. Absent readings are null or "NA" (kw and powerFactor outside EMEA): their
// Number is not Valid.
type Power struct {
	IBX        string `json:"ibx"`
	AccountNo  Text   `json:"accountNo"`
	LevelType  string `json:"levelType"`  // IBX, CAGE, CABINET, CIRCUIT (the feed: lower case)
	LevelValue Text   `json:"levelValue"` // IBX code, cage/cabinet unique space id, circuit number
	IsAlarm    Bool   `json:"isAlarm"`    // breaker trip alarm

	KVA            Number           `json:"kva"`
	Amps           Number           `json:"amps"`
	SoldKVA        Number           `json:"soldKva"`
	SoldAmps       Number           `json:"soldAmps"`
	CabinetRating  Number           `json:"cabinetRating"`
	ContractualKVA Number           `json:"contractualKva"`
	PercentageKVA  Number           `json:"percentageKva"`
	PrimaryKVA     Number           `json:"primaryKva"`
	RedundantKVA   Number           `json:"redundantKva"`
	KW             Number           `json:"kw"`
	PowerFactor    Number           `json:"powerFactor"`
	Comparison     *PowerComparison `json:"comparisonData,omitempty"`

	PeakKVALastSevenDays               Number `json:"peakKvaLastSevenDays"`
	PeakKVALastSevenDaysPercentage     Number `json:"peakKvaLastSevenDaysPercentage"`
	PeakKVALastSevenDaysContractualKVA Number `json:"peakKvaLastSevenDaysContractualKva"`
	PeakKVALastSevenDaysTime           Time   `json:"peakKvaLastSevenDaysTime"`

	ReadingTime     Time   `json:"readingTime"`     // epoch milliseconds
	LastUpdatedTime Time   `json:"lastUpdatedTime"` // epoch milliseconds
	CustomerName    string `json:"customerName"`

	// Feed-only fields.
	Cage        string `json:"cage,omitempty"`
	Cabinet     string `json:"cabinet,omitempty"`
	Type        string `json:"type,omitempty"`        // IBX, CAGE, CABINET, primary, redundant
	Description string `json:"description,omitempty"` // circuit description
}

// PowerComparison is the change of one data point ("percentageKva") against earlier periods.
type PowerComparison struct {
	DataPoint   string `json:"datapoint"`
	Yesterday   Number `json:"yesterday"`
	LastWeek    Number `json:"lastweek"`
	LastMonth   Number `json:"lastmonth"`
	LastQuarter Number `json:"lastquarter"`
}

// Power fetches the current power draw at one level value (GET), e.g. levelType "IBX" with
// levelValue "CH1", or "CIRCUIT" with a circuit number.
func (c *Client) Power(ctx context.Context, ibx, levelType, levelValue string) (*Power, error) {
	return nil, errNotImplemented
}

// PowerList fetches the current power draw of every value of a level type in ibx (POST).
func (c *Client) PowerList(ctx context.Context, ibx, levelType string) ([]Power, error) {
	return nil, errNotImplemented
}
