package sandbox

// The API reference's own examples, placed verbatim in the footprint; generation fills out
// around them. Where two examples disagree (CH1.Lead Chilled Water Manager reads 42.26 °F in one
// and 5.7 °C in two others) the majority wins. SV4's location and power hierarchy examples are
// made one footprint: every cage is in both, zones come from the location example, circuits from
// the power example, and cages only one example shows get what the other would have shown.

type ibxSpec struct {
	code   string
	zones  []string
	cages  []cageSpec
	assets []assetSpec
}

type cageSpec struct {
	id, label, zone string // id "" = generated
	cabinets        []cabinetSpec
}

type cabinetSpec struct {
	id, label string
	circuits  []circuitSpec // nil = a generated primary/redundant pair
}

type circuitSpec struct{ id, label string }

type assetSpec struct {
	id, template string
	blank        bool   // details show empty assetType, manufacturer, model and serial
	maintenance  string // "Mar 17,2019"; with blank, "" stays empty
	serial       string
	// past alarm shown by the asset list, in the reference's format; "" = never
	lastTriggered, lastCleared string
	tags                       []string // only these points of the template; nil = all
	noTags                     bool
	tagValues                  map[string]tagValueSpec
	circuits                   []string // electrical: the circuits it feeds, in the order affected-assets lists them
}

type tagValueSpec struct{ value, readingTime string }

// alarmSpec is a documented alarm, placed in the order the reference lists them.
type alarmSpec struct {
	tagID, condition                         string
	severity                                 int
	active, ack                              bool
	timeTriggered, timeProcessed, timeNormal int64
}

var documentedIBXs = []ibxSpec{
	{
		code:  "CH1",
		zones: []string{"CH1:1:05:ColoArea:2", "CH1:1:05:ColoArea:3"},
		cages: []cageSpec{
			{label: "CH1:05:BCM000", zone: "CH1:1:05:ColoArea:2", cabinets: []cabinetSpec{
				{label: "CH1:05:BCM000:9999", circuits: []circuitSpec{
					{"14488436", "208V 30A 3Ph Pri (8436)"}, {"M10294567", "208V 30A 3Ph Red (4567)"},
					{"20679430", "208V 30A 3Ph Pri (9430)"}, {"15137957", "208V 30A 3Ph Red (7957)"},
					{"20679433", "208V 30A 3Ph Pri (9433)"}, {"20626057", "208V 30A 3Ph Red (6057)"},
				}},
			}},
			{label: "CH1:05:FE00021", zone: "CH1:1:05:ColoArea:3", cabinets: []cabinetSpec{
				{label: "CH1:05:FE00021:0101", circuits: []circuitSpec{
					{"20744057", "208V 20A 1Ph Pri (4057)"}, {"20744058", "208V 20A 1Ph Red (4058)"},
				}},
			}},
			{label: "CH1:05:000550", zone: "CH1:1:05:ColoArea:2", cabinets: []cabinetSpec{
				{label: "CH1:05:000550:0105"},
			}},
		},
		assets: []assetSpec{
			{id: "CH1.Gen-1", template: "Generator", maintenance: "Mar 17,2019", serial: "5JW00638",
				lastTriggered: "Sep 16,2016 04:41 PM", lastCleared: "Sep 16,2016 04:43 PM",
				tagValues: map[string]tagValueSpec{
					"fuelhours":                  {"78.5", "20190324023353"},
					"runningemergencyservice":    {"0", "20190324023421"},
					"voltage":                    {"0.0", "20190324022309"},
					"alarm":                      {"NORMAL", "20190324022351"},
					"runningnonemergencyservice": {"0", "20190324023421"},
					"summary":                    {"READY TO START, AUTO", "20190324023421"},
				}},
			{id: "CH1.Gen-2", template: "Generator", lastTriggered: "Sep 20,2016 04:48 PM", lastCleared: "Sep 20,2016 04:53 PM"},
			{id: "CH1.Gen-3", template: "Generator", lastTriggered: "Oct 04,2016 07:54 AM", lastCleared: "Oct 04,2016 08:41 AM"},
			{id: "CH1.UPS-5", template: "UPS", tagValues: map[string]tagValueSpec{
				"batterytimeremaining": {"AVAILABLE DURING DISCHARGE", "20190218233515"},
			}},
			{id: "CH1.ASTS-1-2-A", template: "ASTS", circuits: []string{"14488436", "M10294567", "20679430", "20744057"}},
			{id: "CH1.PDU-1-2A", template: "PDU", circuits: []string{"20744057", "15137957", "20679433", "20626057"}},
			{id: "CH1.FC 2", template: "Fan Coil", blank: true, maintenance: "Dec 19,2018", noTags: true},
			{id: "CH1.Lead Chilled Water Manager", template: "Cooling Plant", blank: true,
				tags: []string{"primarychilledwatersupplytemperature"},
				tagValues: map[string]tagValueSpec{
					"primarychilledwatersupplytemperature": {"5.7", "20190218225701"},
				}},
			{id: "CH1.VESDA", template: "Early Smoke Detection", lastTriggered: "Aug 21,2018 10:52 AM", lastCleared: "Aug 21,2018 01:52 PM"},
			{id: "CH1.Fire Alarm System", template: "Fire Alarm", lastTriggered: "Feb 01,2019 11:25 AM", lastCleared: "Feb 01,2019 12:25 PM"},
		},
	},
	{
		code:  "SV4",
		zones: []string{"SV4:1:01:ColoA:1", "SV4:1:01:ColoB:2"},
		cages: []cageSpec{ // the power hierarchy's order; the location hierarchy groups them by zone
			{id: "1844", label: "SV4:01:000120", zone: "SV4:1:01:ColoA:1", cabinets: []cabinetSpec{
				{id: "74006", label: "SV4:01:000120:0101", circuits: []circuitSpec{
					{"20853717", "120V 20A 1Ph Red (3717)"}, {"20853716", "120V 20A 1Ph Pri (3716)"}}},
				{id: "74007", label: "SV4:01:000120:0103", circuits: []circuitSpec{
					{"20853719", "120V 20A 1Ph Red (3719)"}, {"14158128", "120V 20A 1Ph Pri (8128)"}}},
			}},
			{id: "6451", label: "SV4:01:000130", zone: "SV4:1:01:ColoA:1", cabinets: []cabinetSpec{
				{id: "102831", label: "SV4:01:000130:0101", circuits: []circuitSpec{
					{"865343", "120V 20A 1Ph Pri (5343)"}, {"865335", "120V 20A 1Ph Pri (5335)"}}},
				{id: "102832", label: "SV4:01:000130:0102", circuits: []circuitSpec{
					{"1129134", "120V 20A 1Ph Red (9134)"}, {"1129133", "120V 20A 1Ph Pri (9133)"}}},
			}},
			{id: "104154", label: "SV4:01:VBCM000-1-271", zone: "SV4:1:01:ColoB:2", cabinets: []cabinetSpec{
				{id: "104158", label: "SV4:01:VBCM000-1-271:V9999", circuits: []circuitSpec{
					{"818563", "120V 20A 1Ph Red (8563)"}, {"20184661", "120V 20A 1Ph Pri (4661)"}}},
			}},
			{id: "1852", label: "SV4:01:001150", zone: "SV4:1:01:ColoA:1", cabinets: []cabinetSpec{
				{id: "138094", label: "SV4:01:001150:0000"}, {id: "74147", label: "SV4:01:001150:0101"},
			}},
			{id: "1948", label: "SV4:01:002100", zone: "SV4:1:01:ColoB:2", cabinets: []cabinetSpec{
				{id: "139474", label: "SV4:01:002100:0000"}, {id: "78970", label: "SV4:01:002100:0102"},
			}},
			{id: "2053", label: "SV4:01:002520", zone: "SV4:1:01:ColoB:2", cabinets: []cabinetSpec{
				{id: "137692", label: "SV4:01:002520:0000"},
			}},
		},
	},
	{
		code: "CH3",
		assets: []assetSpec{
			{id: "CH3.PDU-A3.A5", template: "PDU"},
			{id: "CH3.STS-B1.A5", template: "ASTS"},
		},
	},
	{
		code:   "DC5",
		assets: []assetSpec{{id: "DC5.UPS-R1", template: "UPS"}},
	},
}

// documentedAlarms: the three of the alarms example, in its order, then the alarm that makes
// CH1.Lead Chilled Water Manager "NOT OK" / "Currently Active" in the asset examples.
var documentedAlarms = []alarmSpec{
	{tagID: "DC5.UPS-R1:alarm", condition: "Alarm", severity: 800, active: true, ack: true,
		timeProcessed: 1550519327497, timeTriggered: 1546510663707},
	{tagID: "CH3.PDU-A3.A5:alarm", condition: "Alarm", severity: 800, active: true, ack: true,
		timeProcessed: 1550322722748, timeTriggered: 1550071367746},
	{tagID: "CH3.STS-B1.A5:alarm", condition: "Alarm", severity: 800,
		timeProcessed: 1550509311772, timeTriggered: 1546342538650, timeNormal: 1550509435530},
	{tagID: "CH1.Lead Chilled Water Manager:primarychilledwatersupplytemperature", condition: "High", severity: 600, active: true,
		timeTriggered: mustAssetTime("Feb 15,2019 02:59 AM"), timeProcessed: mustAssetTime("Feb 15,2019 02:59 AM") + 4_000},
}

// The IBXs beyond the documented four: the large profile takes the first 16, the xlarge profile
// all 96. Fixed codes in a fixed order, so a profile's footprint is the same on every run.
var moreIBXs = []string{
	"AM3", "AT1", "DA1", "DC2", "FR2", "HK1", "LD5", "LA1", "NY5", "PA3", "SG1", "SY1", "TY2", "SE2", "MI1", "TR1",
	// xlarge only
	"SV1", "DC1", "NY1", "SE1", "AM1", "FR1", "LD1", "PA1", "TY1", "CH2", "SV2", "DA2", "AT2", "NY2", "LA2", "MI2",
	"TR2", "AM2", "LD2", "PA2", "HK2", "SG2", "SY2", "SV3", "DC3", "DA3", "AT3", "NY3", "LA3", "MI3", "SE3", "TR3",
	"FR3", "LD3", "HK3", "SG3", "SY3", "TY3", "CH4", "DC4", "DA4", "AT4", "NY4", "LA4", "MI4", "SE4", "TR4", "AM4",
	"FR4", "LD4", "PA4", "HK4", "SG4", "SY4", "TY4", "CH5", "SV5", "DA5", "AT5", "LA5", "MI5", "SE5", "TR5", "AM5",
	"FR5", "PA5", "HK5", "SG5", "SY5", "TY5", "CH6", "SV6", "DC6", "DA6", "AT6", "NY6", "LA6", "MI6", "SE6", "TR6",
}
