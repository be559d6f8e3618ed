package uaserver

import (
	"slices"

	"github.com/gopcua/opcua/ua"
)

// transportProfile is UA-TCP with UA-SecureConversation and binary encoding.
const transportProfile = "http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary"

// applicationDescription describes this server.
func (s *Server) applicationDescription() *ua.ApplicationDescription {
	return &ua.ApplicationDescription{
		ApplicationURI:  s.cfg.ApplicationURI,
		ProductURI:      s.cfg.ProductURI,
		ApplicationName: ua.NewLocalizedText(s.cfg.ApplicationName),
		ApplicationType: ua.ApplicationTypeServer,
		DiscoveryURLs:   []string{s.endpoint},
	}
}

// userTokenPolicies are offered on endpoint p. UserName passwords are
// always encrypted with Basic256Sha256 (RSA-OAEP), even on a None channel;
// X.509 user tokens are signed with the endpoint's policy (Basic256Sha256
// on a None endpoint).
func (s *Server) userTokenPolicies(p securityPair) []*ua.UserTokenPolicy {
	var policies []*ua.UserTokenPolicy
	ids := s.ids.Load()
	if ids.allowAnonymous {
		policies = append(policies, &ua.UserTokenPolicy{PolicyID: policyAnonymous, TokenType: ua.UserTokenTypeAnonymous})
	}
	if ids.users.len() > 0 {
		policies = append(policies, &ua.UserTokenPolicy{PolicyID: policyUserName, TokenType: ua.UserTokenTypeUserName,
			SecurityPolicyURI: ua.SecurityPolicyURIBasic256Sha256})
	}
	if len(ids.certUsers) > 0 {
		tp := &ua.UserTokenPolicy{PolicyID: policyCertificate, TokenType: ua.UserTokenTypeCertificate}
		if p.Policy == ua.SecurityPolicyURINone {
			tp.SecurityPolicyURI = ua.SecurityPolicyURIBasic256Sha256
		}
		policies = append(policies, tp)
	}
	return policies
}

// userTokenSecurity is the security policy an X.509 user token on a
// channel of policy is signed with (as userTokenPolicies says).
func userTokenSecurity(policy string) string {
	if policy == ua.SecurityPolicyURINone {
		return ua.SecurityPolicyURIBasic256Sha256
	}
	return policy
}

// endpointDescriptions are the offered endpoints.
func (s *Server) endpointDescriptions() []*ua.EndpointDescription {
	app := s.applicationDescription()
	var eps []*ua.EndpointDescription
	for _, p := range s.cfg.endpoints {
		eps = append(eps, &ua.EndpointDescription{
			EndpointURL:         s.endpoint,
			Server:              app,
			ServerCertificate:   s.own.der,
			SecurityMode:        p.Mode,
			SecurityPolicyURI:   p.Policy,
			UserIdentityTokens:  s.userTokenPolicies(p),
			TransportProfileURI: transportProfile,
			SecurityLevel:       securityLevel(p),
		})
	}
	return eps
}

// offersPolicy reports whether any endpoint uses policy.
func (s *Server) offersPolicy(policy string) bool {
	return slices.ContainsFunc(s.cfg.endpoints, func(p securityPair) bool { return p.Policy == policy })
}

// offers reports whether p is an offered endpoint.
func (s *Server) offers(p securityPair) bool { return slices.Contains(s.cfg.endpoints, p) }

// getEndpoints serves GetEndpoints (no session needed).
func (s *Server) getEndpoints(q *ua.GetEndpointsRequest) *ua.GetEndpointsResponse {
	resp := &ua.GetEndpointsResponse{Endpoints: []*ua.EndpointDescription{}}
	if len(q.ProfileURIs) == 0 || slices.Contains(q.ProfileURIs, transportProfile) {
		resp.Endpoints = s.endpointDescriptions()
	}
	return resp
}

// findServers serves FindServers (no session needed).
func (s *Server) findServers(q *ua.FindServersRequest) *ua.FindServersResponse {
	resp := &ua.FindServersResponse{Servers: []*ua.ApplicationDescription{}}
	if len(q.ServerURIs) == 0 || slices.Contains(q.ServerURIs, s.cfg.ApplicationURI) {
		resp.Servers = append(resp.Servers, s.applicationDescription())
	}
	return resp
}
