// Package auth authenticates Switchboard API callers.
//
// Every request carries "Authorization: Bearer <JWT>". Two kinds of token are
// accepted:
//
//   - Locally minted tokens, signed with HS256 using the shared secret
//     (SWITCHBOARD_JWT_SECRET) and issued by "switchboard". [Mint] creates them
//     and the "switchboard token" command exposes it.
//   - When an OpenID Connect issuer is configured (SWITCHBOARD_OIDC_ISSUER),
//     tokens signed by that issuer with an asymmetric key published in its
//     JWKS, optionally restricted to an audience (SWITCHBOARD_OIDC_AUDIENCE).
//
// Both kinds carry the same application claims: sub, email, name, tenant and
// role. The roles agent, supervisor and admin belong to exactly one tenant, so
// the tenant claim is required for them; the operator role is platform staff
// and must not carry a tenant. [Verifier.Verify] enforces these rules and
// returns the caller's [Claims]. Every failure wraps [ErrUnauthenticated] with
// a short reason that is safe to return to the client.
package auth
