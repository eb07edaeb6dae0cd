"""The records events carry (DESIGN §5): keys, participants, new lots, sites, declarations,
licences, quotas; frozen msgspec structs, like the events themselves."""

from typing import Annotated

import msgspec
from msgspec import Meta

from ledger.lots.fields import (
    MAX_KEYS,
    MAX_LOTS,
    Composition,
    Countries,
    Country,
    DeclarationId,
    Deposit,
    Elements,
    GeoUri,
    HsCode,
    HsCodes,
    Instant,
    KeyId,
    LicenceId,
    LotId,
    LotIds,
    Mass,
    Name,
    Product,
    PublicKey,
    QuotaId,
    RegisteredId,
    Roles,
    ShortText,
    SiteId,
    Year,
    check_composition,
    check_distinct,
    check_elements,
    check_geo,
    check_instant,
)
from ledger.tlog.encoding import b64decode


# An optional field is absent or set; parse_event refuses an explicit null (one event, one
# spelling), and encoding leaves an absent one out. No struct takes part in a cycle: gc=False.
# (Each subclass says frozen=True again, for mypy: the option is inherited at run time.)
class Strict(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    pass


class KeyRef(Strict, frozen=True):
    keyid: KeyId
    public_key: PublicKey

    @property
    def raw_public_key(self) -> bytes:
        return b64decode(self.public_key)


class ParticipantRecord(Strict, frozen=True):
    id: RegisteredId
    name: Name
    country: Country
    roles: Roles
    keys: Annotated[tuple[KeyRef, ...], Meta(min_length=1, max_length=MAX_KEYS)]

    def __post_init__(self) -> None:
        check_distinct("roles", self.roles)


class NewLot(Strict, frozen=True):
    id: LotId
    product: Product
    mass_g: Mass
    composition_ppm: Composition
    spec: ShortText | None = None

    def __post_init__(self) -> None:
        check_composition("composition_ppm", self.composition_ppm)


class Site(Strict, frozen=True):
    id: SiteId
    name: Name
    country: Country
    geo: GeoUri | None = None

    def __post_init__(self) -> None:
        check_geo("geo", self.geo)


class LotMass(Strict, frozen=True):
    lot: LotId
    mass_g: Mass


LotMasses = Annotated[tuple[LotMass, ...], Meta(min_length=1, max_length=MAX_LOTS)]


class Transport(Strict, frozen=True):
    mode: ShortText
    document: Name


class Declaration(Strict, frozen=True):
    id: DeclarationId
    lots: LotIds
    hs_code: HsCode
    description: Name
    declared_mass_g: Mass
    destination: Country
    declared_composition_ppm: Composition | None = None
    licence: Name | None = None

    def __post_init__(self) -> None:
        check_composition("declared_composition_ppm", self.declared_composition_ppm)


class Licence(Strict, frozen=True):
    id: LicenceId
    holder: RegisteredId
    elements: Elements
    max_mass_g: Mass
    valid_from: Instant
    valid_until: Instant
    destination: Countries | None = None
    hs_codes: HsCodes | None = None

    def __post_init__(self) -> None:
        check_elements("elements", self.elements)
        check_distinct("elements", self.elements)
        check_distinct("destination", self.destination)
        check_distinct("hs_codes", self.hs_codes)
        check_instant("valid_from", self.valid_from)
        check_instant("valid_until", self.valid_until)


class Quota(Strict, frozen=True):
    id: QuotaId
    holder: RegisteredId
    year: Year
    reo_mass_g: Mass
    deposit: Deposit | None = None
