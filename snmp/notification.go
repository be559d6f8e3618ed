package snmp

import (
	"fmt"
	"math"

	"github.com/gosnmp/gosnmp"
	"github.com/svgateway/svgateway/model"
)

// This file builds the varbinds of SVGATEWAY-MIB's notifications from the
// model, with the same column functions the tables are served with, in the
// order and with the objects the MIB's NOTIFICATION-TYPEs list. Sending
// them (targets, informs, retries) is the notification sender's job.

// NotificationVarbinds is a notification ready to send: its definition and
// the varbinds of its OBJECTS, without the leading sysUpTime.0 and
// snmpTrapOID.0 (see PDUs).
type NotificationVarbinds struct {
	Notification *Notification
	Varbinds     []Varbind
}

// PDUs returns the varbind list of an SNMPv2 trap or inform: sysUpTime.0
// (uptime in hundredths of a second), snmpTrapOID.0, then the objects.
func (n NotificationVarbinds) PDUs(uptime uint32) []gosnmp.SnmpPDU {
	out := make([]gosnmp.SnmpPDU, 0, len(n.Varbinds)+2)
	out = append(out,
		gosnmp.SnmpPDU{Name: sysUpTime.OID.Append(0).String(), Type: sysUpTime.Type, Value: uptime},
		gosnmp.SnmpPDU{Name: snmpTrapOID.OID.Append(0).String(), Type: snmpTrapOID.Type, Value: n.Notification.OID.String()})
	for _, vb := range n.Varbinds {
		out = append(out, vb.PDU())
	}
	return out
}

// AlarmNotification returns the notification of an alarm transition:
// svgAlarmRaised, svgAlarmAcknowledged or svgAlarmCleared, every varbind
// instance being the alarm id. snap resolves svgAlarmResource (the latest
// snapshot will do).
func (m *MIB) AlarmNotification(snap *model.Snapshot, tr model.AlarmTransition) (NotificationVarbinds, error) {
	var n *Notification
	switch tr.Kind {
	case model.AlarmRaised:
		n = svgAlarmRaised
	case model.AlarmAcknowledgedKind:
		n = svgAlarmAcknowledged
	case model.AlarmClearedKind:
		n = svgAlarmCleared
	default:
		return NotificationVarbinds{}, fmt.Errorf("snmp: %s is not an alarm transition", tr.Kind)
	}
	if tr.Alarm.ID > math.MaxUint32 {
		return NotificationVarbinds{}, fmt.Errorf("snmp: alarm id %d beyond the Unsigned32 range", tr.Alarm.ID)
	}
	t := m.Tree(snap.Structure())
	a := tr.Alarm
	return build(n, uint32(a.ID), func(obj *Object) (any, bool) {
		for _, c := range alarmColumns {
			if c.obj == obj {
				return c.value(t, &a), true
			}
		}
		return nil, false
	})
}

// AlertNotification returns the notification of an alert transition:
// svgAlertTriggered or svgAlertAcknowledged.
func (m *MIB) AlertNotification(tr model.AlertTransition) (NotificationVarbinds, error) {
	var n *Notification
	switch tr.Kind {
	case model.AlertTriggered:
		n = svgAlertTriggered
	case model.AlertAcknowledged:
		n = svgAlertAcknowledged
	default:
		return NotificationVarbinds{}, fmt.Errorf("snmp: %s is not an alert transition", tr.Kind)
	}
	if tr.Alert.Number > math.MaxUint32 {
		return NotificationVarbinds{}, fmt.Errorf("snmp: alert number %d beyond the Unsigned32 range", tr.Alert.Number)
	}
	a := tr.Alert
	return build(n, uint32(a.Number), func(obj *Object) (any, bool) {
		for _, c := range alertColumns {
			if c.obj == obj {
				return c.value(&a), true
			}
		}
		return nil, false
	})
}

// UpstreamNotification returns svgUpstreamLost (lost) or
// svgUpstreamRestored with the upstream state of snap.
func (m *MIB) UpstreamNotification(snap *model.Snapshot, lost bool) (NotificationVarbinds, error) {
	n := svgUpstreamRestored
	if lost {
		n = svgUpstreamLost
	}
	return m.gatewayNotification(n, snap)
}

// PersistNotification returns svgPersistFailed (failing) or
// svgPersistRestored with the persistence health of snap.
func (m *MIB) PersistNotification(snap *model.Snapshot, failing bool) (NotificationVarbinds, error) {
	n := svgPersistRestored
	if failing {
		n = svgPersistFailed
	}
	return m.gatewayNotification(n, snap)
}

// ClusterNotification returns svgClusterLeaderChanged with the redundant
// pair's state of snap.
func (m *MIB) ClusterNotification(snap *model.Snapshot) (NotificationVarbinds, error) {
	return m.gatewayNotification(svgClusterLeaderChanged, snap)
}

// HeartbeatNotification returns svgHeartbeat with the state of snap.
func (m *MIB) HeartbeatNotification(snap *model.Snapshot) (NotificationVarbinds, error) {
	return m.gatewayNotification(svgHeartbeat, snap)
}

func (m *MIB) gatewayNotification(n *Notification, snap *model.Snapshot) (NotificationVarbinds, error) {
	v := m.View(snap)
	return build(n, 0, func(obj *Object) (any, bool) {
		for _, g := range gatewayScalars {
			if g.obj == obj {
				return g.value(v), true
			}
		}
		return nil, false
	})
}

// build returns the varbinds of n's objects: column instances obj.index,
// scalar instances obj.0.
func build(n *Notification, index uint32, value func(obj *Object) (any, bool)) (NotificationVarbinds, error) {
	out := NotificationVarbinds{Notification: n, Varbinds: make([]Varbind, 0, len(n.Objects))}
	for _, obj := range n.Objects {
		val, ok := value(obj)
		if !ok {
			return NotificationVarbinds{}, fmt.Errorf("snmp: no value for %s in %s", obj.Name, n.Name)
		}
		inst := index
		if obj.Scalar {
			inst = 0
		}
		out.Varbinds = append(out.Varbinds, Varbind{OID: obj.OID.Append(inst), Type: obj.Type, Value: val})
	}
	return out, nil
}

// The generic traps of SNMPv2-MIB (RFC 3418) the gateway sends: coldStart
// on the first start of a state directory, warmStart on every later start.
// They have no objects; the gateway adds snmpTrapEnterprise.0 (its
// sysObjectID), which an SNMPv1 trap takes as its enterprise.
var (
	snmpTraps = OID{1, 3, 6, 1, 6, 3, 1, 1, 5}
	ColdStart = &Notification{Name: "coldStart", OID: snmpTraps.Append(1)}
	WarmStart = &Notification{Name: "warmStart", OID: snmpTraps.Append(2)}
)

// StartNotification returns coldStart (cold) or warmStart.
func (m *MIB) StartNotification(cold bool) NotificationVarbinds {
	n := WarmStart
	if cold {
		n = ColdStart
	}
	return NotificationVarbinds{Notification: n, Varbinds: []Varbind{
		{OID: snmpTrapEnterprise.OID.Append(0), Type: snmpTrapEnterprise.Type, Value: RootOID().String()}}}
}

// V1Trap returns the notification as an SNMPv1 Trap-PDU, translated as RFC
// 3584 3.2 says: a generic trap of SNMPv2-MIB keeps its generic-trap number
// (enterprise: snmpTrapEnterprise.0 when present, else snmpTraps); any other
// notification is enterpriseSpecific(6) with specific-trap its last
// sub-identifier and enterprise its OID without it (and without the 0
// before it: svgAlarmRaised, root.0.1, is enterprise root, specific 1).
// Every varbind is kept except Counter64 ones, which SNMPv1 cannot carry,
// and snmpTrapEnterprise.0, which the enterprise field holds. agentAddr is
// the IPv4 agent-addr.
func (n NotificationVarbinds) V1Trap(uptime uint32, agentAddr string) gosnmp.SnmpTrap {
	trap := gosnmp.SnmpTrap{AgentAddress: agentAddr, Timestamp: uint(uptime), GenericTrap: 6}
	oid := n.Notification.OID
	last := oid[len(oid)-1]
	var enterprise OID
	if len(oid) == len(snmpTraps)+1 && oid.HasPrefix(snmpTraps) && last >= 1 && last <= 6 {
		trap.GenericTrap, trap.SpecificTrap = int(last-1), 0
		enterprise = snmpTraps
	} else {
		trap.SpecificTrap = int(last)
		enterprise = oid[:len(oid)-1]
		if len(enterprise) > 1 && enterprise[len(enterprise)-1] == 0 {
			enterprise = enterprise[:len(enterprise)-1]
		}
	}
	entOID := snmpTrapEnterprise.OID.Append(0)
	for _, vb := range n.Varbinds {
		switch {
		case vb.OID.Equal(entOID):
			if s, ok := vb.Value.(string); ok && trap.GenericTrap != 6 {
				if e, err := ParseOID(s); err == nil {
					enterprise = e
				}
			}
		case vb.Type == gosnmp.Counter64:
		default:
			trap.Variables = append(trap.Variables, vb.PDU())
		}
	}
	trap.Enterprise = "." + enterprise.String()
	return trap
}
