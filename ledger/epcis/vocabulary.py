"""The EPCIS words and identifiers the ledger uses: CBV values, the ree: namespace, URNs."""

from types import MappingProxyType
from urllib.parse import quote, unquote

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
SCHEMA_VERSION = "2.0"
# DSSE payload type of a capture request: the EPCIS 2.0 JSON-LD document media type of GS1.
DOCUMENT_PAYLOAD_TYPE = "application/vnd.gs1.epcis.document+json"

# The ree: namespace: ledger facts EPCIS has no field for. JSON-valued terms are JSON-LD 1.1
# JSON literals (@json), so a JSON-LD processor keeps them whole instead of dropping their keys.
REE_PREFIX = "ree"
REE_NAMESPACE = "https://ree-ledger.dev/ns/epcis#"
JSON_TERMS = (
    "envelope", "prev", "site", "lots", "transport", "declaration",
)  # fmt: skip
REE_CONTEXT: MappingProxyType[str, object] = MappingProxyType(
    {
        REE_PREFIX: REE_NAMESPACE,
        **{f"ree:{term}": {"@id": f"ree:{term}", "@type": "@json"} for term in JSON_TERMS},
    }
)

# Full URIs of CBV 2.0 vocabulary values and of the GS1 Web Vocabulary.
CBV = "https://ref.gs1.org/cbv/"
GS1_VOC = "https://gs1.org/voc/"
# The CBV 1.x URN forms a document may still use, and their CBV 2.0 Web URI equivalents.
CBV_URN_PREFIXES = MappingProxyType(
    {
        "urn:epcglobal:cbv:bizstep:": CBV + "BizStep-",
        "urn:epcglobal:cbv:disp:": CBV + "Disp-",
        "urn:epcglobal:cbv:btt:": CBV + "BTT-",
        "urn:epcglobal:cbv:sdt:": CBV + "SDT-",
        "urn:epcglobal:cbv:er:": CBV + "ER-",
    }
)

# Our vocabulary values that CBV lacks, as full URIs in the ree: namespace.
DECLARATION_TYPE = REE_NAMESPACE + "BTT-customs_declaration"

UOM_KILOGRAM = "KGM"  # UN/CEFACT Rec. 20
UOM_PPM = "59"  # UN/CEFACT Rec. 20: part per million; the ledger's ppm are by mass (mg/kg)
PPM_MEASUREMENT = "Dimensionless"  # GS1 MeasurementType of a mass fraction
GRAMS_PER_KILOGRAM = 1000

# The event types EPCIS defines; the ledger exports three of them.
EPCIS_EVENT_TYPES = frozenset(
    {
        "ObjectEvent",
        "AggregationEvent",
        "TransactionEvent",
        "TransformationEvent",
        "AssociationEvent",
    }
)

_URN = "urn:ree-ledger:"
# Characters kept as they are in a URN's namespace-specific string (RFC 8141 pchar and "/"),
# except ":" which separates the origin from the local id.
_NSS_SAFE = "/-._~!$&'()*+,;=@"


def urn(kind: str, origin: str, local_id: str) -> str:
    """`urn:ree-ledger:<kind>:<origin, percent-encoded>:<local id, percent-encoded>`."""
    return f"{_URN}{kind}:{quote(origin, safe=_NSS_SAFE)}:{quote(local_id, safe=_NSS_SAFE + ':')}"


def parse_urn(kind: str, value: str) -> tuple[str, str] | None:
    """The (origin, local id) of a URN made by `urn(kind, ...)`, or None for another value."""
    prefix = f"{_URN}{kind}:"
    if not value.startswith(prefix):
        return None
    origin, sep, local_id = value[len(prefix) :].partition(":")
    if not sep or not origin or not local_id:
        return None
    return unquote(origin), unquote(local_id)


def lot_urn(origin: str, lot_id: str) -> str:
    return urn("lot", origin, lot_id)


def participant_urn(origin: str, participant_id: str) -> str:
    return urn("participant", origin, participant_id)


def declaration_urn(origin: str, declaration_id: str) -> str:
    return urn("declaration", origin, declaration_id)


def element_uri(symbol: str) -> str:
    """A chemical element as `chemicalSubstance`: `urn:ree-ledger:element:<symbol>`."""
    return f"{_URN}element:{symbol}"


def cbv_uri(kind: str, value: str) -> str:
    """The CBV 2.0 Web URI of a value given in short (`shipping`), URN or URI form.

    `kind` is the CBV vocabulary prefix: BizStep, Disp, BTT, SDT or ER. A value that is
    already a URI other than a CBV URN is returned as it is.
    """
    for urn_prefix, web_prefix in CBV_URN_PREFIXES.items():
        if value.startswith(urn_prefix):
            return web_prefix + value[len(urn_prefix) :]
    if ":" in value:
        return value
    return f"{CBV}{kind}-{value}"
