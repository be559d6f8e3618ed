package smartview

import (
	"context"
	"io"
	"time"
)

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

// powerFields decodes a Power without reflection (see objectFields): a values cycle of the large
// footprint decodes ~100,000 of them.
var powerFields = newObjectFields(map[string]func(*Power) any{
	"ibx": func(p *Power) any { return &p.IBX }, "accountNo": func(p *Power) any { return &p.AccountNo },
	"levelType": func(p *Power) any { return &p.LevelType }, "levelValue": func(p *Power) any { return &p.LevelValue },
	"isAlarm": func(p *Power) any { return &p.IsAlarm }, "kva": func(p *Power) any { return &p.KVA },
	"amps": func(p *Power) any { return &p.Amps }, "soldKva": func(p *Power) any { return &p.SoldKVA },
	"soldAmps": func(p *Power) any { return &p.SoldAmps }, "cabinetRating": func(p *Power) any { return &p.CabinetRating },
	"contractualKva": func(p *Power) any { return &p.ContractualKVA }, "percentageKva": func(p *Power) any { return &p.PercentageKVA },
	"primaryKva": func(p *Power) any { return &p.PrimaryKVA }, "redundantKva": func(p *Power) any { return &p.RedundantKVA },
	"kw": func(p *Power) any { return &p.KW }, "powerFactor": func(p *Power) any { return &p.PowerFactor },
	"comparisonData":                     func(p *Power) any { return comparisonMember{&p.Comparison} },
	"peakKvaLastSevenDays":               func(p *Power) any { return &p.PeakKVALastSevenDays },
	"peakKvaLastSevenDaysPercentage":     func(p *Power) any { return &p.PeakKVALastSevenDaysPercentage },
	"peakKvaLastSevenDaysContractualKva": func(p *Power) any { return &p.PeakKVALastSevenDaysContractualKVA },
	"peakKvaLastSevenDaysTime":           func(p *Power) any { return &p.PeakKVALastSevenDaysTime },
	"readingTime":                        func(p *Power) any { return &p.ReadingTime }, "lastUpdatedTime": func(p *Power) any { return &p.LastUpdatedTime },
	"customerName": func(p *Power) any { return &p.CustomerName }, "cage": func(p *Power) any { return &p.Cage },
	"cabinet": func(p *Power) any { return &p.Cabinet }, "type": func(p *Power) any { return &p.Type },
	"description": func(p *Power) any { return &p.Description },
})

// UnmarshalJSON implements json.Unmarshaler, as encoding/json would decode the struct by its tags.
func (p *Power) UnmarshalJSON(data []byte) error { return powerFields.decode(data, p) }

// comparisonMember decodes the optional comparisonData object: null leaves no comparison.
type comparisonMember struct{ p **PowerComparison }

func (m comparisonMember) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		*m.p = nil
		return nil
	}
	if *m.p == nil {
		*m.p = new(PowerComparison)
	}
	return comparisonFields.decode(data, *m.p)
}

// PowerComparison is the change of one data point ("percentageKva") against earlier periods.
type PowerComparison struct {
	DataPoint   string `json:"datapoint"`
	Yesterday   Number `json:"yesterday"`
	LastWeek    Number `json:"lastweek"`
	LastMonth   Number `json:"lastmonth"`
	LastQuarter Number `json:"lastquarter"`
}

// comparisonFields decodes a power reading's PowerComparison without reflection: most readings
// carry one, and encoding/json's validation and reflection for it were a twentieth of a values
// cycle's decoding. PowerComparison has no UnmarshalJSON of its own, so that encoding/json's
// decoding of it stays what the tests compare this table with.
var comparisonFields = newObjectFields(map[string]func(*PowerComparison) any{
	"datapoint": func(c *PowerComparison) any { return &c.DataPoint }, "yesterday": func(c *PowerComparison) any { return &c.Yesterday },
	"lastweek": func(c *PowerComparison) any { return &c.LastWeek }, "lastmonth": func(c *PowerComparison) any { return &c.LastMonth },
	"lastquarter": func(c *PowerComparison) any { return &c.LastQuarter },
})

// Power fetches the current power draw at one level value (GET), e.g. levelType "IBX" with
// levelValue "CH1", or "CIRCUIT" with a circuit number.
func (c *Client) Power(ctx context.Context, ibx, levelType, levelValue string) (*Power, error) {
	r := c.get(endpointPower, routePowerCurrent, "ibx", ibx, "levelType", levelType, "levelValue", levelValue)
	var p Power
	if err := c.do(ctx, r, func(body io.Reader) error { return decodeEnveloped(body, &p) }); err != nil {
		return nil, err
	}
	p.localize(c.zone)
	return &p, nil
}

// powerListRequest is the body of POST power.
type powerListRequest struct {
	AccountNo string `json:"accountNo"`
	IBX       string `json:"ibx"`
	LevelType string `json:"levelType"`
}

// PowerList fetches the current power draw of every value of a level type in ibx (POST).
func (c *Client) PowerList(ctx context.Context, ibx, levelType string) ([]Power, error) {
	chunks, err := c.PowerListChunks(ctx, ibx, levelType)
	if err != nil {
		return nil, err
	}
	return join(chunks), nil
}

// PowerListChunks is PowerList's answer in the chunks it was decoded in (up to 256 readings
// each, in the answer's order; none for an empty list), for a caller that walks the readings
// once: joining a list of thousands of readings into one slice copies it once more. A caller
// done with the chunks may hand them to ReleasePowerChunks, which reuses them.
func (c *Client) PowerListChunks(ctx context.Context, ibx, levelType string) ([][]Power, error) {
	r := c.post(endpointPowerList, routePowerCurrent,
		powerListRequest{AccountNo: c.cfg.AccountNo, IBX: ibx, LevelType: levelType})
	chunks, err := fetchChunks[Power](ctx, c, r, true, "data", nil, &powerChunks)
	if err != nil {
		return nil, err
	}
	for _, chunk := range chunks {
		for i := range chunk {
			chunk[i].localize(c.zone)
		}
	}
	return chunks, nil
}

// powerChunks keeps the chunks of power lists released (see ReleasePowerChunks).
var powerChunks chunkPool[Power]

// ReleasePowerChunks hands back the chunks PowerListChunks returned, for a later list to be
// decoded into. The caller must hold no reference into them afterwards (a Power's strings are
// its own: those may be kept).
func (*Client) ReleasePowerChunks(chunks [][]Power) { powerChunks.put(chunks) }

func (p *Power) localize(loc *time.Location) {
	p.ReadingTime = p.ReadingTime.InLocation(loc)
	p.LastUpdatedTime = p.LastUpdatedTime.InLocation(loc)
	p.PeakKVALastSevenDaysTime = p.PeakKVALastSevenDaysTime.InLocation(loc)
}

func (*Power) memberTable() *objectFields[Power] { return powerFields }
