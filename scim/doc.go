// Package scim provisions a tenant's organisation contacts from its
// identity provider (Microsoft Entra ID, Okta) over SCIM 2.0 (RFC 7643,
// RFC 7644), under /scim/v2.
//
// # Tokens
//
// A tenant's admins create and revoke its SCIM bearer tokens (CreateToken,
// RevokeToken, through GraphQL). A token is "sbs_" and 32 random bytes in
// base64url; it is shown once and only its SHA-256 is stored. Authenticate
// finds a token's tenant by that hash (the one lookup that crosses tenants)
// and every request then runs as the tenant's SCIM service viewer
// (ServiceContext), which the data layer confines to the tenant's
// organisation contacts of source SCIM. Another tenant's user is therefore
// simply not found (404), and hand-made contacts are out of reach.
//
// # Users
//
// A SCIM User is a Contact with scope ORGANISATION and source SCIM:
//
//	userName              scim_user_name (stored as sent; unique per tenant regardless of case)
//	externalId            scim_external_id
//	name.givenName        given_name
//	name.familyName       family_name
//	name.formatted        not stored; returned as the given and family names joined
//	displayName           name (without a displayName: name.formatted, else the
//	                      given and family names, else the userName)
//	title                 job_title
//	emails[]              emails (type, value, primary); addresses are stored lower-case
//	phoneNumbers[]        phone_numbers (type, value, primary); numbers are stored in E.164
//	active                active: false hides the contact from the agents' search,
//	                      while SCIM still reads and writes it
//
// Other attributes of the core User schema (addresses, preferredLanguage,
// ...) and every extension attribute (the enterprise extension's
// department, manager, ...) are accepted and not kept, so that an identity
// provider's default attribute mappings work. DELETE removes the contact.
//
// # Protocol
//
// Supported: the discovery endpoints (ServiceProviderConfig, ResourceTypes,
// Schemas); POST, GET, PUT, PATCH and DELETE of Users; GET /Users with
// filter, startIndex, count (at most 200), attributes and
// excludedAttributes; POST /Users/.search. Not supported: bulk, sort,
// ETags, password changes, Groups.
//
// Filters (ParseFilter) take eq, ne, co, sw, ew and pr on strings, eq and
// ne on booleans, and gt, ge, lt, le on meta.created and meta.lastModified;
// and, or, not and parentheses; value paths as `emails[type eq "work"]` and,
// as Entra ID writes them, `emails[type eq "work"].value eq "a@example.com"`.
// Attribute names, operators and PATCH ops are case-insensitive; booleans
// may be the strings "True" and "False". PATCH paths (ParsePath) are
// attributes, sub-attributes and value paths with a sub-attribute, such as
// `phoneNumbers[type eq "work"].value`; an add or replace of such a path
// that matches no value adds the value the filter describes, as Entra ID
// expects. An operation without a path takes an object whose members are
// attribute paths.
//
// Errors use the SCIM error schema: 400 with a scimType for bad input
// (invalidFilter, invalidPath, invalidValue, invalidSyntax, mutability,
// noTarget, tooMany), 401 without a valid token, 404 for an unknown id, 409
// (uniqueness) for a userName already taken, 413 for a body over 1 MiB.
package scim
