package snmp

import (
	"cmp"
	"math"
	"slices"

	"github.com/svgateway/svgateway/model"
)

// This file maps the model onto SVGATEWAY-MIB: which rows each table has
// and how each column reads its value. Every column names the generated
// *Object of the MIB it serves, so nothing is served that the MIB does not
// define (TestServedObjectsMatchMIB walks the whole tree to prove it).

// locTable is a table over locations: its rows in index order and the
// location position of each.
type locTable struct {
	rows indexRows
	pos  []int32
}

// build assembles the tree of st, assigning indexes to new identities and
// saving them before anything is served with them.
func (m *MIB) build(st *model.Structure) *Tree {
	t := &Tree{structure: st}
	locs, assets, tags := st.Locations(), st.Assets(), st.Tags()
	keys := make([]string, 0, max(len(locs), len(assets), len(tags)))
	assign := func(space string, n int, key func(i int) string) []uint32 {
		keys = keys[:0]
		for i := 0; i < n; i++ {
			keys = append(keys, key(i))
		}
		idx, err := m.idx.assign(space, keys)
		if err != nil { // exhausted: serve none of this kind rather than wrong rows
			m.log.Error("snmp: cannot assign table indexes", "space", space, "err", err)
			return make([]uint32, n)
		}
		return idx
	}
	t.locIdx = assign(spaceLocations, len(locs), func(i int) string { return locs[i].ID.String() })
	t.assetIdx = assign(spaceAssets, len(assets), func(i int) string { return assets[i].IBX + "/" + assets[i].ID })
	t.tagIdx = assign(spaceTags, len(tags), func(i int) string { return tags[i].IBX + "/" + tags[i].ID })
	err := m.idx.save()
	if err != nil {
		m.log.Error("snmp: table indexes not saved; new rows may be renumbered after a restart unless a later save succeeds", "err", err)
	}
	if m.report != nil && (err != nil || m.failed) {
		m.report(IndexComponent, err)
	}
	m.failed = err != nil

	parentIdx := make([]uint32, len(locs))
	for i, l := range locs {
		if p, ok := st.LocationIndex(l.Parent); ok && l.ID.Level != model.LevelIBX {
			parentIdx[i] = t.locIdx[p]
		}
	}
	tagAsset := make([]uint32, len(tags))
	for i, tg := range tags {
		if a, ok := st.AssetIndex(tg.Asset); ok {
			tagAsset[i] = t.assetIdx[a]
		}
	}

	fixed := func(rows indexRows) func(*View) rowSet {
		var rs rowSet = rows // boxed once, not per request
		return func(*View) rowSet { return rs }
	}
	var ts subtrees
	ts = append(ts, newSubtree(svgUpstreamState.OID[:len(svgUpstreamState.OID)-1],
		func(*View) rowSet { return scalarRow{} }, gatewayColumns()...))

	type levelObjects struct {
		level                          model.Level
		id, label, number, ibx, parent *Object
		role                           *Object
	}
	for _, lo := range []levelObjects{
		{model.LevelIBX, svgIbxId, svgIbxLabel, svgIbxNumber, svgIbxIbx, svgIbxParent, nil},
		{model.LevelZone, svgZoneId, svgZoneLabel, svgZoneNumber, svgZoneIbx, svgZoneParent, nil},
		{model.LevelCage, svgCageId, svgCageLabel, svgCageNumber, svgCageIbx, svgCageParent, nil},
		{model.LevelCabinet, svgCabinetId, svgCabinetLabel, svgCabinetNumber, svgCabinetIbx, svgCabinetParent, nil},
		{model.LevelCircuit, svgCircuitId, svgCircuitLabel, svgCircuitNumber, svgCircuitIbx, svgCircuitParent, svgCircuitRole},
		{model.LevelSensor, svgSensorId, svgSensorLabel, svgSensorNumber, svgSensorIbx, svgSensorParent, nil},
	} {
		lt := t.locTable(lo.level)
		loc := func(r int) *model.Location { return st.Location(int(lt.pos[r])) }
		cols := []column{
			newColumn(lo.id, func(_ *View, r int) cell { return textCell(loc(r).ID.Name) }),
			newColumn(lo.label, func(_ *View, r int) cell { return textCell(loc(r).Label) }),
			newColumn(lo.number, func(_ *View, r int) cell { return textCell(loc(r).Number) }),
			newColumn(lo.ibx, func(_ *View, r int) cell { return textCell(loc(r).ID.IBX) }),
			newColumn(lo.parent, func(_ *View, r int) cell { return uintCell(parentIdx[lt.pos[r]]) }),
		}
		if lo.role != nil {
			cols = append(cols, newColumn(lo.role, func(_ *View, r int) cell { return intCell(role(loc(r).Role)) }))
		}
		ts = append(ts, newSubtree(entryOf(lo.id), fixed(lt.rows), cols...))
	}

	pt := t.locTable(model.LevelIBX, model.LevelCage, model.LevelCabinet, model.LevelCircuit)
	ts = append(ts, newSubtree(entryOf(svgPowerLevel), fixed(pt.rows), powerColumns(st, pt)...))
	et := t.locTable(model.LevelIBX, model.LevelZone, model.LevelCage, model.LevelCabinet, model.LevelSensor)
	ts = append(ts, newSubtree(entryOf(svgEnvLevel), fixed(et.rows), envColumns(st, et)...))

	at := sortedRows(t.assetIdx)
	ts = append(ts, newSubtree(entryOf(svgAssetId), fixed(at.rows), assetColumns(st, at)...))
	tt := sortedRows(t.tagIdx)
	ts = append(ts, newSubtree(entryOf(svgTagId), fixed(tt.rows), tagColumns(st, tt, tagAsset)...))

	var alarmCols, alertCols []column
	for _, c := range alarmColumns {
		alarmCols = append(alarmCols, boxedColumn(c.obj, func(v *View, r int) (any, bool) { return c.value(v.tree, v.alarms[r]), true }))
	}
	ts = append(ts, newSubtree(entryOf(svgAlarmId), func(v *View) rowSet { return alarmRows(v.alarms) }, alarmCols...))
	for _, c := range alertColumns {
		alertCols = append(alertCols, boxedColumn(c.obj, func(v *View, r int) (any, bool) { return c.value(v.alerts[r]), true }))
	}
	ts = append(ts, newSubtree(entryOf(svgAlertNumber), func(v *View) rowSet { return alertRows(v.alerts) }, alertCols...))
	ts.sort()
	t.subtrees = ts
	return t
}

// entryOf returns the entry OID of a column's table.
func entryOf(col *Object) OID { return col.OID[:len(col.OID)-1] }

// locTable returns the locations of the given levels that have an index, in
// index order.
func (t *Tree) locTable(levels ...model.Level) locTable {
	var pos []int32
	for i, l := range t.structure.Locations() {
		if slices.Contains(levels, l.ID.Level) {
			pos = append(pos, int32(i))
		}
	}
	return byIndex(pos, t.locIdx)
}

// sortedRows returns the positions of idx that have an index, in index order.
func sortedRows(idx []uint32) locTable {
	pos := make([]int32, len(idx))
	for i := range idx {
		pos[i] = int32(i)
	}
	return byIndex(pos, idx)
}

// byIndex orders positions by their index, leaving out those without one
// (0) and any second holder of an index, which the index registry never
// gives out: rows must be strictly increasing for GetNext to progress.
func byIndex(pos []int32, idx []uint32) locTable {
	pos = slices.DeleteFunc(pos, func(p int32) bool { return idx[p] == 0 })
	slices.SortStableFunc(pos, func(a, b int32) int { return cmp.Compare(idx[a], idx[b]) })
	pos = slices.CompactFunc(pos, func(a, b int32) bool { return idx[a] == idx[b] })
	lt := locTable{pos: pos, rows: make(indexRows, len(pos))}
	for i, p := range pos {
		lt.rows[i] = idx[p]
	}
	return lt
}

// gatewayColumns serve the svgGateway scalars.
func gatewayColumns() []column {
	cols := make([]column, len(gatewayScalars))
	for i, g := range gatewayScalars {
		cols[i] = boxedColumn(g.obj, func(v *View, _ int) (any, bool) { return g.value(v), true })
	}
	return cols
}

type gatewayScalar struct {
	obj   *Object
	value func(v *View) any
}

// gatewayScalars are the svgGateway objects; notifications read them too.
var gatewayScalars = []gatewayScalar{
	{svgUpstreamState, func(v *View) any { return int(v.snap.Health().Upstream) + svgUpstreamStatusStarting }},
	{svgUpstreamSince, func(v *View) any { return dateAndTime(v.snap.Health().UpstreamSince) }},
	{svgUpstreamError, func(v *View) any { return text(v.snap.Health().UpstreamError) }},
	{svgLastSync, func(v *View) any { return dateAndTime(v.snap.Health().LastSync) }},
	{svgFeedState, func(v *View) any { return int(v.snap.Health().Feed.State) + svgFeedStatusDisabled }},
	{svgFeedProvider, func(v *View) any { return text(v.snap.Health().Feed.Provider) }},
	{svgFeedSince, func(v *View) any { return dateAndTime(v.snap.Health().Feed.Since) }},
	{svgFeedError, func(v *View) any { return text(v.snap.Health().Feed.Error) }},
	{svgFeedEvents, func(v *View) any { return v.snap.Health().Feed.Events }},
	{svgFeedMalformed, func(v *View) any { return v.snap.Health().Feed.Malformed }},
	{svgFeedUnknown, func(v *View) any { return v.snap.Health().Feed.Unknown }},
	{svgFeedLastEvent, func(v *View) any { return dateAndTime(v.snap.Health().Feed.LastEvent) }},
	{svgFeedNewestEventTime, func(v *View) any { return dateAndTime(v.snap.Health().Feed.NewestEventTime) }},
	{svgModelTime, func(v *View) any { return dateAndTime(v.snap.Time()) }},
	{svgStructureGeneration, func(v *View) any { return uint32(v.snap.Structure().Gen()) }},
	{svgAlarmsActive, func(v *View) any {
		var n uint32
		for _, a := range v.snap.Alarms() {
			if a.State != model.AlarmCleared {
				n++
			}
		}
		return n
	}},
	{svgAlarmLastSeq, func(v *View) any { return uint32(v.snap.TransitionSeq()) }},
	{svgPersistState, func(v *View) any {
		if v.snap.Health().Persist.OK() {
			return svgPersistStatusOk
		}
		return svgPersistStatusFailing
	}},
	{svgPersistSince, func(v *View) any { return dateAndTime(v.snap.Health().Persist.Since) }},
	{svgPersistError, func(v *View) any { return text(v.snap.Health().Persist.Error()) }},
	{svgClusterRole, func(v *View) any { return int(v.snap.Health().Cluster.Role) + svgPairRoleAlone }},
	{svgClusterNode, func(v *View) any { return text(v.snap.Health().Cluster.Node) }},
	{svgClusterLeader, func(v *View) any { return text(v.snap.Health().Cluster.Leader) }},
	{svgClusterConnected, func(v *View) any {
		if v.snap.Health().Cluster.Connected {
			return truthTrue
		}
		return truthFalse
	}},
}

// powerColumns serve svgPowerTable.
func powerColumns(st *model.Structure, lt locTable) []column {
	sample := func(v *View, r int) model.PowerSample { return v.snap.Power(int(lt.pos[r])) }
	cols := []column{
		newColumn(svgPowerLevel, func(_ *View, r int) cell { return intCell(int(st.Location(int(lt.pos[r])).ID.Level)) }),
		newColumn(svgPowerBreakerAlarm, func(v *View, r int) cell {
			switch sample(v, r).BreakerAlarm {
			case model.FlagTrue:
				return intCell(truthTrue)
			case model.FlagFalse:
				return intCell(truthFalse)
			}
			return cell{}
		}),
		newColumn(svgPowerReadingTime, func(v *View, r int) cell { return dateCell(sample(v, r).ReadingTime) }),
		newColumn(svgPowerConfirmedTime, func(v *View, r int) cell { return dateCell(sample(v, r).Confirmed) }),
		newColumn(svgPowerQuality, func(v *View, r int) cell { return intCell(quality(sample(v, r).Quality)) }),
	}
	cols = append(cols, locationLabels(st, lt, svgPowerIbx, svgPowerLocationId)...)
	for _, rd := range []struct {
		num, txt *Object
		factor   float64
		field    model.PowerField
	}{
		{svgPowerKva, svgPowerKvaText, thousandths, model.PowerKVA},
		{svgPowerAmps, svgPowerAmpsText, thousandths, model.PowerAmps},
		{svgPowerSoldKva, svgPowerSoldKvaText, thousandths, model.PowerSoldKVA},
		{svgPowerContractKva, svgPowerContractKvaText, thousandths, model.PowerContractualKVA},
		{svgPowerPercentOfContract, svgPowerPercentOfContractText, hundredths, model.PowerPercentKVA},
		{svgPowerCabinetRating, svgPowerCabinetRatingText, thousandths, model.PowerCabinetRating},
		{svgPowerPrimaryKva, svgPowerPrimaryKvaText, thousandths, model.PowerPrimaryKVA},
		{svgPowerRedundantKva, svgPowerRedundantKvaText, thousandths, model.PowerRedundantKVA},
		{svgPowerKw, svgPowerKwText, thousandths, model.PowerKW},
		{svgPowerPowerFactor, svgPowerPowerFactorText, thousandths, model.PowerPowerFactor},
		{svgPowerPeakKva7d, svgPowerPeakKva7dText, thousandths, model.PowerPeakKVA7d},
	} {
		// One value per varbind: read alone, not the whole sample.
		value := func(v *View, r int) model.Value { return v.snap.PowerValue(int(lt.pos[r]), rd.field) }
		cols = append(cols,
			newColumn(rd.num, func(v *View, r int) cell { return scaledCell(value(v, r), rd.factor) }),
			newColumn(rd.txt, func(v *View, r int) cell { return v.valueText(value(v, r)) }))
	}
	return cols
}

// envColumns serve svgEnvTable.
func envColumns(st *model.Structure, lt locTable) []column {
	sample := func(v *View, r int) model.EnvironmentSample { return v.snap.Environment(int(lt.pos[r])) }
	num := func(obj *Object, field func(e model.Environment) model.Value) column {
		return newColumn(obj, func(v *View, r int) cell { return scaledCell(field(sample(v, r).Environment), hundredths) })
	}
	str := func(obj *Object, field func(e model.Environment) string) column {
		return newColumn(obj, func(v *View, r int) cell { return textCell(field(sample(v, r).Environment)) })
	}
	valueText := func(obj *Object, field func(e model.Environment) model.Value) column {
		return newColumn(obj, func(v *View, r int) cell { return v.valueText(field(sample(v, r).Environment)) })
	}
	return append(locationLabels(st, lt, svgEnvIbx, svgEnvLocationId),
		newColumn(svgEnvLevel, func(_ *View, r int) cell { return intCell(int(st.Location(int(lt.pos[r])).ID.Level)) }),
		num(svgEnvTemperature, func(e model.Environment) model.Value { return e.Temperature }),
		valueText(svgEnvTemperatureText, func(e model.Environment) model.Value { return e.Temperature }),
		str(svgEnvTemperatureUnit, func(e model.Environment) string { return e.TemperatureUnit }),
		num(svgEnvHumidity, func(e model.Environment) model.Value { return e.Humidity }),
		valueText(svgEnvHumidityText, func(e model.Environment) model.Value { return e.Humidity }),
		str(svgEnvHumidityUnit, func(e model.Environment) string { return e.HumidityUnit }),
		num(svgEnvTemperatureMin, func(e model.Environment) model.Value { return e.TemperatureMin }),
		num(svgEnvTemperatureMax, func(e model.Environment) model.Value { return e.TemperatureMax }),
		num(svgEnvHumidityMin, func(e model.Environment) model.Value { return e.HumidityMin }),
		num(svgEnvHumidityMax, func(e model.Environment) model.Value { return e.HumidityMax }),
		newColumn(svgEnvReadingTime, func(v *View, r int) cell { return dateCell(sample(v, r).ReadingTime) }),
		newColumn(svgEnvConfirmedTime, func(v *View, r int) cell { return dateCell(sample(v, r).Confirmed) }),
		newColumn(svgEnvQuality, func(v *View, r int) cell { return intCell(quality(sample(v, r).Quality)) }),
	)
}

// locationLabels serve the IBX and location id columns of a reading table,
// which label its rows for tools that do not join tables (snmp_exporter).
func locationLabels(st *model.Structure, lt locTable, ibx, id *Object) []column {
	loc := func(r int) *model.Location { return st.Location(int(lt.pos[r])) }
	return []column{
		newColumn(ibx, func(_ *View, r int) cell { return textCell(loc(r).ID.IBX) }),
		newColumn(id, func(_ *View, r int) cell { return textCell(loc(r).ID.Name) }),
	}
}

// assetColumns serve svgAssetTable.
func assetColumns(st *model.Structure, lt locTable) []column {
	asset := func(r int) *model.Asset { return st.Asset(int(lt.pos[r])) }
	sample := func(v *View, r int) model.AssetSample { return v.snap.Asset(int(lt.pos[r])) }
	str := func(obj *Object, field func(a *model.Asset) string) column {
		return newColumn(obj, func(_ *View, r int) cell { return textCell(field(asset(r))) })
	}
	state := func(obj *Object, value func(s model.AssetSample) cell) column {
		return newColumn(obj, func(v *View, r int) cell { return value(sample(v, r)) })
	}
	return []column{
		str(svgAssetId, func(a *model.Asset) string { return a.ID }),
		str(svgAssetIbx, func(a *model.Asset) string { return a.IBX }),
		str(svgAssetClassification, func(a *model.Asset) string { return a.Classification }),
		str(svgAssetCategory, func(a *model.Asset) string { return a.Category }),
		str(svgAssetTemplate, func(a *model.Asset) string { return a.Template }),
		str(svgAssetType, func(a *model.Asset) string { return a.Type }),
		str(svgAssetManufacturer, func(a *model.Asset) string { return a.Manufacturer }),
		str(svgAssetModel, func(a *model.Asset) string { return a.Model }),
		str(svgAssetSerial, func(a *model.Asset) string { return a.Serial }),
		str(svgAssetTimeZone, func(a *model.Asset) string { return a.TimeZone }),
		state(svgAssetAlarmStatus, func(s model.AssetSample) cell { return intCell(okStatus(s.AlarmStatus)) }),
		state(svgAssetAlarmStatusText, func(s model.AssetSample) cell { return textCell(s.AlarmStatus) }),
		state(svgAssetResiliencyStatus, func(s model.AssetSample) cell { return textCell(s.ResiliencyStatus) }),
		state(svgAssetLastAlarmTriggered, func(s model.AssetSample) cell { return dateCell(s.AlarmTriggered) }),
		state(svgAssetLastAlarmCleared, func(s model.AssetSample) cell { return dateCell(s.AlarmCleared) }),
		state(svgAssetAlarmActive, func(s model.AssetSample) cell { return intCell(truth(s.AlarmActive)) }),
		state(svgAssetLastMaintenance, func(s model.AssetSample) cell { return dateCell(s.LastMaintenance) }),
		state(svgAssetReadingTime, func(s model.AssetSample) cell { return dateCell(s.ReadingTime) }),
		state(svgAssetConfirmedTime, func(s model.AssetSample) cell { return dateCell(s.Confirmed) }),
		state(svgAssetQuality, func(s model.AssetSample) cell { return intCell(quality(s.Quality)) }),
	}
}

// tagColumns serve svgTagTable.
func tagColumns(st *model.Structure, lt locTable, tagAsset []uint32) []column {
	tag := func(r int) *model.Tag { return st.Tag(int(lt.pos[r])) }
	sample := func(v *View, r int) model.TagSample { return v.snap.Tag(int(lt.pos[r])) }
	str := func(obj *Object, field func(t *model.Tag) string) column {
		return newColumn(obj, func(_ *View, r int) cell { return textCell(field(tag(r))) })
	}
	return []column{
		str(svgTagId, func(t *model.Tag) string { return t.ID }),
		str(svgTagIbx, func(t *model.Tag) string { return t.IBX }),
		newColumn(svgTagAsset, func(_ *View, r int) cell { return uintCell(tagAsset[lt.pos[r]]) }),
		str(svgTagAssetId, func(t *model.Tag) string { return t.Asset }),
		str(svgTagDisplayName, func(t *model.Tag) string { return t.DisplayName }),
		str(svgTagUnit, func(t *model.Tag) string { return t.Unit }),
		newColumn(svgTagValue, func(v *View, r int) cell { return scaledCell(sample(v, r).Value, thousandths) }),
		newColumn(svgTagValueInteger, func(v *View, r int) cell { return scaledCell(sample(v, r).Value, 1) }),
		newColumn(svgTagValueText, func(v *View, r int) cell { return v.valueText(sample(v, r).Value) }),
		newColumn(svgTagAlarmStatus, func(v *View, r int) cell { return intCell(okStatus(sample(v, r).AlarmStatus)) }),
		newColumn(svgTagAlarmStatusText, func(v *View, r int) cell { return textCell(sample(v, r).AlarmStatus) }),
		newColumn(svgTagReadingTime, func(v *View, r int) cell { return dateCell(sample(v, r).ReadingTime) }),
		newColumn(svgTagConfirmedTime, func(v *View, r int) cell { return dateCell(sample(v, r).Confirmed) }),
		newColumn(svgTagQuality, func(v *View, r int) cell { return intCell(quality(sample(v, r).Quality)) }),
	}
}

type alarmColumn struct {
	obj   *Object
	value func(t *Tree, a *model.Alarm) any
}

// alarmColumns serve svgAlarmTable and the alarm notifications' varbinds.
var alarmColumns = []alarmColumn{
	{svgAlarmId, func(_ *Tree, a *model.Alarm) any { return uint32(a.ID) }},
	{svgAlarmKey, func(_ *Tree, a *model.Alarm) any { return text(a.Key) }},
	{svgAlarmState, func(_ *Tree, a *model.Alarm) any { return int(a.State) }},
	{svgAlarmPerceivedSeverity, func(_ *Tree, a *model.Alarm) any { return perceivedSeverity(a) }},
	{svgAlarmSeverityText, func(_ *Tree, a *model.Alarm) any { return text(a.Severity.String()) }},
	{svgAlarmResource, func(t *Tree, a *model.Alarm) any { return t.alarmResource(a) }},
	{svgAlarmIbx, func(_ *Tree, a *model.Alarm) any { return text(a.IBX) }},
	{svgAlarmAssetId, func(_ *Tree, a *model.Alarm) any { return text(a.AssetID) }},
	{svgAlarmAssetType, func(_ *Tree, a *model.Alarm) any { return text(a.AssetType) }},
	{svgAlarmClassification, func(_ *Tree, a *model.Alarm) any { return text(a.Classification) }},
	{svgAlarmTagId, func(_ *Tree, a *model.Alarm) any { return text(a.TagID) }},
	{svgAlarmCondition, func(_ *Tree, a *model.Alarm) any { return text(a.Condition) }},
	{svgAlarmCage, func(_ *Tree, a *model.Alarm) any { return text(a.Cage) }},
	{svgAlarmCabinet, func(_ *Tree, a *model.Alarm) any { return text(a.Cabinet) }},
	{svgAlarmCircuit, func(_ *Tree, a *model.Alarm) any { return text(a.Circuit) }},
	{svgAlarmValue, func(_ *Tree, a *model.Alarm) any { return text(a.Value) }},
	{svgAlarmUnit, func(_ *Tree, a *model.Alarm) any { return text(a.Unit) }},
	{svgAlarmTriggeredTime, func(_ *Tree, a *model.Alarm) any { return dateAndTime(a.Triggered) }},
	{svgAlarmProcessedTime, func(_ *Tree, a *model.Alarm) any { return dateAndTime(a.Processed) }},
	{svgAlarmClearedTime, func(_ *Tree, a *model.Alarm) any { return dateAndTime(a.Cleared) }},
	{svgAlarmSeq, func(_ *Tree, a *model.Alarm) any { return gauge(a.Seq) }},
	{svgAlarmFirstSeen, func(_ *Tree, a *model.Alarm) any { return dateAndTime(a.FirstSeen) }},
	{svgAlarmLastSeen, func(_ *Tree, a *model.Alarm) any { return dateAndTime(a.LastSeen) }},
	{svgAlarmSeverity, func(_ *Tree, a *model.Alarm) any { return alarmSeverity(a.Severity) }},
	{svgAlarmSeverityRaw, func(_ *Tree, a *model.Alarm) any { return text(a.SeverityText) }},
	{svgAlarmInferred, func(_ *Tree, a *model.Alarm) any { return truth(a.Inferred) }},
	{svgAlarmType, func(_ *Tree, a *model.Alarm) any { return Classify(a).Type.OID().String() }},
	{svgAlarmProbableCause, func(_ *Tree, a *model.Alarm) any { return Classify(a).Cause }},
	{svgAlarmEventType, func(_ *Tree, a *model.Alarm) any { return Classify(a).EventType }},
	{svgAlarmAckTime, func(_ *Tree, a *model.Alarm) any { return dateAndTime(a.AckTime) }},
	{svgAlarmAckActor, func(_ *Tree, a *model.Alarm) any { return text(a.AckActor) }},
	{svgAlarmOperatorAckTime, func(_ *Tree, a *model.Alarm) any { return dateAndTime(operator(a).AckTime) }},
	{svgAlarmOperatorAckUser, func(_ *Tree, a *model.Alarm) any { return text(operator(a).AckUser) }},
	{svgAlarmOperatorComment, func(_ *Tree, a *model.Alarm) any { return text(operator(a).Comment) }},
}

// operator is the alarm's operator record (empty without one).
func operator(a *model.Alarm) model.OperatorRecord {
	if a.Operator == nil {
		return model.OperatorRecord{}
	}
	return *a.Operator
}

// alarmSeverity is SvgSeverity: the canonical severity's number, unknown(1)
// for an unknown one.
func alarmSeverity(s model.Severity) int {
	if c := s.Code(); c != 0 {
		return c
	}
	return svgSeverityUnknown
}

// alarmResource returns the RowPointer of an alarm's resource: its asset's
// svgAssetId instance, else its circuit's, cabinet's or cage's id instance,
// else 0.0.
func (t *Tree) alarmResource(a *model.Alarm) string {
	st := t.structure
	if a.AssetID != "" {
		if i, ok := st.AssetIndex(a.AssetID); ok && t.assetIdx[i] != 0 {
			return svgAssetId.OID.Append(t.assetIdx[i]).String()
		}
	}
	for _, c := range []struct {
		level model.Level
		name  string
		obj   *Object
	}{{model.LevelCircuit, a.Circuit, svgCircuitId}, {model.LevelCabinet, a.Cabinet, svgCabinetId}, {model.LevelCage, a.Cage, svgCageId}} {
		if c.name == "" {
			continue
		}
		if i, ok := st.LocationIndex(model.LocationID{IBX: a.IBX, Level: c.level, Name: c.name}); ok && t.locIdx[i] != 0 {
			return c.obj.OID.Append(t.locIdx[i]).String()
		}
	}
	return "0.0"
}

type alertColumn struct {
	obj   *Object
	value func(a *model.Alert) any
}

// alertColumns serve svgAlertTable and the alert notifications' varbinds.
var alertColumns = []alertColumn{
	{svgAlertNumber, func(a *model.Alert) any { return uint32(min(a.Number, math.MaxUint32)) }},
	{svgAlertId, func(a *model.Alert) any { return text(a.ID) }},
	{svgAlertIbx, func(a *model.Alert) any { return text(a.IBX) }},
	{svgAlertAssetId, func(a *model.Alert) any { return text(a.Asset) }},
	{svgAlertAssetName, func(a *model.Alert) any { return text(a.AssetName) }},
	{svgAlertAssetType, func(a *model.Alert) any { return text(a.AssetType) }},
	{svgAlertClassification, func(a *model.Alert) any { return text(a.Classification) }},
	{svgAlertTagId, func(a *model.Alert) any { return text(a.TagID) }},
	{svgAlertType, func(a *model.Alert) any { return text(a.Type) }},
	{svgAlertName, func(a *model.Alert) any { return text(a.Name) }},
	{svgAlertEventType, func(a *model.Alert) any { return text(a.EventType) }},
	{svgAlertSeverityText, func(a *model.Alert) any { return text(a.Severity) }},
	{svgAlertValue, func(a *model.Alert) any { return text(a.Value) }},
	{svgAlertUnit, func(a *model.Alert) any { return text(a.Unit) }},
	{svgAlertThreshold, func(a *model.Alert) any { return text(a.Threshold) }},
	{svgAlertIsAcknowledged, func(a *model.Alert) any { return truth(a.Acknowledged) }},
	{svgAlertTriggeredTime, func(a *model.Alert) any { return dateAndTime(a.Triggered) }},
	{svgAlertAcknowledgedTime, func(a *model.Alert) any { return dateAndTime(a.AcknowledgedAt) }},
	{svgAlertSeq, func(a *model.Alert) any { return gauge(a.Seq) }},
}
