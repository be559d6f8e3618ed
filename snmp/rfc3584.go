package snmp

import (
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/gosnmp/gosnmp"
)

// This file is SNMPv1 as RFC 3584 (coexistence of SNMPv1, v2c and v3)
// says an SNMPv2 entity serves it: GET and GETNEXT answered from the same
// view with the SNMPv1 error model, Counter64 objects invisible, v2 error
// codes mapped to v1's. The v1 Trap-PDU translation of notifications is in
// notification.go (V1Trap).

// serveV1 answers an SNMPv1 GET or GETNEXT (RFC 3584 4.2.2.1, RFC 1157):
// a GET of an instance that does not exist or is a Counter64, or a
// GETNEXT that reaches the end of the view, fails the whole request with
// noSuchName and the index of that varbind; a GETNEXT steps over
// Counter64 instances.
func (a *Agent) serveV1(v *View, acc *access, req *request, budget int) result {
	res := result{varbinds: make([]served, 0, len(req.oids))}
	used := 0
	for i, oid := range req.oids {
		var vb served
		if req.pduType == gosnmp.GetRequest {
			vb = a.get(v, acc, oid)
		} else {
			vb = a.next(v, acc, oid, nil)
			for vb.typ == gosnmp.Counter64 {
				vb = a.next(v, acc, vb.oid, nil)
			}
		}
		switch vb.typ {
		case gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView, gosnmp.Counter64:
			a.stats.count(respNoSuchName)
			return v1Error(req, gosnmp.NoSuchName, i+1)
		}
		if used += servedLen(&vb); used > budget {
			return result{status: gosnmp.TooBig}
		}
		res.varbinds = append(res.varbinds, vb)
	}
	return res
}

// v1Error is an SNMPv1 error response: the request's varbinds, as RFC 1157
// wants them echoed, with the error status and index.
func v1Error(req *request, status gosnmp.SNMPError, index int) result {
	res := result{status: status, index: index, varbinds: make([]served, len(req.oids))}
	for i, oid := range req.oids {
		res.varbinds[i] = served{oid: oid, typ: gosnmp.Null}
	}
	return res
}

// v1Status maps an SNMPv2 error status to SNMPv1's (RFC 3584 4.4).
func v1Status(s gosnmp.SNMPError) gosnmp.SNMPError {
	switch s {
	case gosnmp.NoError, gosnmp.TooBig, gosnmp.NoSuchName, gosnmp.BadValue, gosnmp.ReadOnly, gosnmp.GenErr:
		return s
	case gosnmp.WrongValue, gosnmp.WrongEncoding, gosnmp.WrongType, gosnmp.WrongLength, gosnmp.InconsistentValue:
		return gosnmp.BadValue
	case gosnmp.NoAccess, gosnmp.NotWritable, gosnmp.NoCreation, gosnmp.InconsistentName, gosnmp.AuthorizationError:
		return gosnmp.NoSuchName
	}
	return gosnmp.GenErr // resourceUnavailable, commitFailed, undoFailed
}

// refuseVersion answers a request whose community does not answer its
// version (an SNMPv1 request with a v2c-only community): the access check
// of RFC 3415 fails, so the response is authorizationError, which SNMPv1
// carries as noSuchName (RFC 3584 4.4, which also has
// snmpInBadCommunityUses counted).
func (a *Agent) refuseVersion(dst []byte, pkt *gosnmp.SnmpPacket, req *request, version int, from netip.AddrPort) []byte {
	a.stats.count(respVersionRefused)
	a.limit.log(a.log, slog.LevelWarn, "version_refused", "snmp: request refused: the community does not answer this SNMP version",
		"from", from.String(), "version", [numVersions]string{verV2c: "v2c", verV3: "v3", verV1: "v1"}[version])
	if req.requestID < 0 {
		return a.drop(dropParse, from, fmt.Errorf("negative request-id"))
	}
	pkt.RequestID = uint32(req.requestID)
	res := v1Error(req, gosnmp.AuthorizationError, 0)
	if version == verV1 {
		res.status = v1Status(res.status)
	}
	return a.encode(dst, pkt, nil, res, a.cfg.MaxMessageSize, from)
}
