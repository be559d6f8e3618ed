package sandbox

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
)

// Feed subscriptions, under /feedsubscription/v1/subscribe, /feedsubscriptions/v1/subscribe and
// /registration/v1/subscribe alike, with or without "/{id}", answered as bare objects.
//
// The sandbox keeps at most maxSubscriptions; "the" subscription (no id in the path) is the
// newest. It starts with the reference's: id 5c4f7103ce9a9d4903419128 (the id its GET and PUT
// examples call), power and asset events of CH1, GOOGLE/PULL. POST creates, PUT replaces the
// events and config, DELETE removes and answers the removed subscription; an unknown id (or none
// left) is 404. config.provider must be GOOGLE, AZURE, AWS, ORACLE or PRIVATE and config.method
// PULL (PUSH is "not implemented", as the reference says): otherwise 400 with status "ERROR".
// Targets naming an unknown IBX are dropped and reported in "errors" with status "PARTIAL".
// Subscriptions are bookkeeping only: Server.Subscribe delivers every event.

const (
	maxSubscriptions       = 100
	maxSubscriptionTargets = 1000 // per event category
	seededSubscriptionID   = "5c4f7103ce9a9d4903419128"
	subscriptionNameSpace  = "projects/equinix-dcim-feeds/subscriptions/"
)

// subscriptionEvents are the event categories of a subscription, in the reference's order.
var subscriptionEvents = [...]string{"power", "asset", "alarm", "alert", "environment"}

type subscriptionTarget struct {
	AccountNo string `json:"accountNo"`
	IBX       string `json:"ibx"`
}

type feedSubscription struct {
	id, name         string
	targets          [len(subscriptionEvents)][]subscriptionTarget
	provider, method string
}

type subscriptionStore struct {
	list []*feedSubscription // oldest first
	next int
}

func newSubscriptionStore(accountNo string) subscriptionStore {
	seeded := &feedSubscription{id: seededSubscriptionID, name: subscriptionNameSpace + "joe23%40abc.com", provider: "GOOGLE", method: "PULL"}
	seeded.targets[0] = []subscriptionTarget{{accountNo, "CH1"}}
	seeded.targets[1] = []subscriptionTarget{{accountNo, "CH1"}}
	return subscriptionStore{list: []*feedSubscription{seeded}}
}

func (st *subscriptionStore) find(id string) (int, *feedSubscription) {
	if id == "" {
		if len(st.list) == 0 {
			return -1, nil
		}
		return len(st.list) - 1, st.list[len(st.list)-1]
	}
	for i, sub := range st.list {
		if sub.id == id {
			return i, sub
		}
	}
	return -1, nil
}

type subscriptionRequest struct {
	Power       []subscriptionTarget `json:"power"`
	Asset       []subscriptionTarget `json:"asset"`
	Alarm       []subscriptionTarget `json:"alarm"`
	Alert       []subscriptionTarget `json:"alert"`
	Environment []subscriptionTarget `json:"environment"`
	Config      *struct {
		Provider string `json:"provider"`
		Method   string `json:"method"`
		PushURL  string `json:"pushurl"`
	} `json:"config"`
}

var subscriptionProviders = []string{"GOOGLE", "AZURE", "AWS", "ORACLE", "PRIVATE"}

func (s *Server) handleSubscription(r *http.Request, w *jsonWriter) int {
	id := r.PathValue("id")
	var req subscriptionRequest
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		if err := decodeBody(r, &req); err != nil {
			return s.badRequest(w, r, err)
		}
		switch c := req.Config; {
		case c == nil || c.Provider == "" || c.Method == "":
			return subscriptionError(w, "config.provider and config.method are mandatory")
		case !slices.Contains(subscriptionProviders, c.Provider):
			return subscriptionError(w, fmt.Sprintf("config.provider %q is not one of GOOGLE, AZURE, AWS, ORACLE, PRIVATE", c.Provider))
		case c.Method != "PULL":
			return subscriptionError(w, fmt.Sprintf("config.method %q is not supported: only PULL is implemented", c.Method))
		}
	}

	s.mu.Lock() // subscriptions change under the same lock as the rest; they are few
	defer s.mu.Unlock()
	st := &s.subs
	var sub *feedSubscription
	i := -1
	if r.Method != http.MethodPost {
		if i, sub = st.find(id); sub == nil {
			return s.httpErrorMessage(w, http.StatusNotFound, "Not Found - No subscription "+id, r.URL.Path)
		}
	}
	var problems []string
	switch r.Method {
	case http.MethodPost:
		st.next++
		sub = &feedSubscription{id: fmt.Sprintf("5c509e8a%016x", st.next),
			name: subscriptionNameSpace + url.QueryEscape(s.cfg.UserName) + fmt.Sprintf("-%d", st.next)}
		st.list = append(st.list, sub)
		if len(st.list) > maxSubscriptions {
			st.list = st.list[1:]
		}
		problems = s.setSubscription(sub, &req)
	case http.MethodPut:
		problems = s.setSubscription(sub, &req)
	case http.MethodDelete:
		st.list = append(st.list[:i], st.list[i+1:]...)
	}
	status := "OK"
	if len(problems) > 0 {
		status = "PARTIAL"
	}
	writeSubscription(w, sub, status, problems)
	return http.StatusOK
}

// setSubscription replaces a subscription's targets and config; it returns the targets dropped.
func (s *Server) setSubscription(sub *feedSubscription, req *subscriptionRequest) (problems []string) {
	for k, targets := range [...][]subscriptionTarget{req.Power, req.Asset, req.Alarm, req.Alert, req.Environment} {
		sub.targets[k] = nil
		if len(targets) > maxSubscriptionTargets {
			problems = append(problems, fmt.Sprintf("%s: %d targets, only the first %d kept", subscriptionEvents[k], len(targets), maxSubscriptionTargets))
			targets = targets[:maxSubscriptionTargets]
		}
		for _, t := range targets {
			if _, ok := s.fp.ibxByCode[t.IBX]; !ok {
				problems = append(problems, fmt.Sprintf("%s: unknown ibx %q", subscriptionEvents[k], t.IBX))
				continue
			}
			sub.targets[k] = append(sub.targets[k], t)
		}
	}
	sub.provider, sub.method = req.Config.Provider, req.Config.Method
	return problems
}

func writeSubscription(w *jsonWriter, sub *feedSubscription, status string, problems []string) {
	w.objectStart()
	for k, name := range subscriptionEvents {
		w.key(name)
		w.arrayStart()
		if sub != nil {
			for _, t := range sub.targets[k] {
				w.objectStart()
				w.key("ucmId")
				w.null()
				w.str("accountNo", t.AccountNo)
				w.str("ibx", t.IBX)
				w.objectEnd()
			}
		}
		w.arrayEnd()
	}
	if sub != nil {
		w.str("subscriptionId", sub.id)
		w.str("subscriptionName", sub.name)
	} else {
		w.key("subscriptionId")
		w.null()
		w.key("subscriptionName")
		w.null()
	}
	w.str("status", status)
	w.key("errors")
	w.arrayStart()
	for _, p := range problems {
		w.objectStart()
		w.str("code", statusInternalError)
		w.str("message", p)
		w.objectEnd()
	}
	w.arrayEnd()
	w.key("config")
	if sub != nil {
		w.objectStart()
		w.str("method", sub.method)
		w.str("provider", sub.provider)
		w.objectEnd()
	} else {
		w.null()
	}
	w.objectEnd()
}

// subscriptionError answers 400 with the subscription shape, status "ERROR" and the problem.
func subscriptionError(w *jsonWriter, problem string) int {
	writeSubscription(w, nil, "ERROR", []string{problem})
	return http.StatusBadRequest
}
