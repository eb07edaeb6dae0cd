"""A small seeded supply chain for `ree-ledger demo`: mine to magnet to export, all signed."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.home import Home, read_private_key, write_private_key
from ledger.service import registry
from ledger.service.ingest import ingest
from ledger.service.tokens import issue_token
from ledger.store import log as logstore
from ledger.store.engine import Database
from ledger.tlog import keys
from ledger.tlog.encoding import canonical
from ledger.tlog.envelope import sign_envelope

PARTICIPANTS = [
    ("baotou-mine", "Baotou Iron & RE Mine", "CN", ["mine"]),
    ("mtpass-mine", "Mountain Pass Mine", "US", ["mine"]),
    ("gansu-separation", "Gansu RE Separation Works", "CN", ["processor"]),
    ("ningbo-magnets", "Ningbo Sintered Magnets", "CN", ["processor", "exporter"]),
    ("tianjin-customs", "Tianjin Customs District", "CN", ["customs"]),
    ("audit-office", "Independent Audit Office", "CH", ["auditor"]),
]

BASTNAESITE_ORE = {"La": 17000, "Ce": 29000, "Pr": 2800, "Nd": 9500, "Sm": 600, "Fe": 120000}
CONCENTRATE = {"La": 120000, "Ce": 210000, "Pr": 20000, "Nd": 68000, "Sm": 4200, "Fe": 30000}
NDPR_OXIDE = {"Nd": 643000, "Pr": 214000, "O": 143000}
NDPR_METAL = {"Nd": 748000, "Pr": 249000, "Fe": 2000}
NDFEB_ALLOY = {"Nd": 232000, "Pr": 77000, "Dy": 9000, "Fe": 660000, "B": 10000, "Co": 10000}


@dataclass
class Chain:
    """Signs events for participants and tracks lot heads and the clock as it posts."""

    db: Database
    home: Home
    origin: str
    clock: datetime
    signers: dict[str, Ed25519PrivateKey] = field(default_factory=dict)
    heads: dict[str, str] = field(default_factory=dict)
    count: int = 0

    def post(self, actor: str, event_type: str, touched: list[str], **fields: Any) -> int:
        self.clock += timedelta(hours=6)
        self.count += 1
        event = {
            "type": event_type,
            "id": f"demo-{self.count:04d}",
            "actor": actor,
            "time": registry.rfc3339(self.clock),
            "prev": {lot: self.heads[lot] for lot in touched},
            **fields,
        }
        key = self.signers[actor]
        keyid = keys.key_id(actor, keys.raw_public_key(key))
        envelope = sign_envelope(canonical(event), key, keyid).to_json()
        now = datetime.now(UTC)
        [accepted] = ingest(self.db, self.home.identity(self.origin), [envelope], now)
        for lot in [*touched, *_created(event)]:
            self.heads[lot] = accepted.event_hash
        return accepted.index


def _created(event: dict[str, Any]) -> list[str]:
    if event["type"] == "lot.extract":
        return [event["lot"]["id"]]
    if event["type"] == "lot.transform":
        return [output["id"] for output in event["outputs"]]
    return []


def _participant_key(home: Home, participant: str) -> Ed25519PrivateKey:
    folder = home.path / "participants"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f"{participant}.pem"
    if not path.exists():
        write_private_key(path, keys.generate_private_key())
    return read_private_key(path)


@dataclass(frozen=True)
class SeedReport:
    entries: int
    exported_lot: str
    token: str

    def summary(self, base_url: str) -> str:
        return "\n".join(
            [
                f"ledger: {self.entries} entries",
                f"  log:         {base_url}/v1/log",
                f"  checkpoint:  {base_url}/v1/checkpoint",
                f"  lot (open):  {base_url}/v1/lots/{self.exported_lot}",
                f"  read token (customs): {self.token}",
                f"  try: curl -H 'Authorization: Bearer {self.token}' "
                f"{base_url}/v1/lots/{self.exported_lot}",
            ]
        )


def seed_demo(home_path: Path, database_url: str, origin: str) -> SeedReport:
    """Register the demo participants and post one chain, unless the log already has entries."""
    home = Home(home_path)
    db = Database(database_url)
    try:
        with db.read_session() as session:
            already = logstore.current_size(session) > 0
        if not already:
            _post_chain(db, home, origin)
        token = issue_token(db, "tianjin-customs", datetime.now(UTC))
        with db.read_session() as session:
            size = logstore.current_size(session)
    finally:
        db.dispose()
    return SeedReport(entries=size, exported_lot="MAG-2026-0001", token=token)


def _post_chain(db: Database, home: Home, origin: str) -> None:
    identity = home.identity(origin)
    operator = home.operator_key()
    chain = Chain(db, home, origin, clock=datetime.now(UTC) - timedelta(days=30))
    for participant, name, country, roles in PARTICIPANTS:
        key = _participant_key(home, participant)
        chain.signers[participant] = key
        event = registry.register_event(
            participant, name, country, roles, [keys.raw_public_key(key)], datetime.now(UTC)
        )
        registry.post_registry_event(db, identity, operator, event, datetime.now(UTC))
    _magnet_chain(chain)


def _magnet_chain(chain: Chain) -> None:
    mine, plant, magnets = "baotou-mine", "gansu-separation", "ningbo-magnets"
    chain.post(
        mine,
        "lot.extract",
        [],
        lot={
            "id": "ORE-2026-0001",
            "product": "ore",
            "mass_g": 500_000_000,
            "composition_ppm": BASTNAESITE_ORE,
        },
        site={"id": "bayan-obo-east", "name": "Bayan Obo East Pit", "country": "CN"},
        deposit="bastnaesite",
    )
    chain.post(
        mine,
        "lot.transform",
        ["ORE-2026-0001"],
        process="beneficiation",
        inputs=[{"lot": "ORE-2026-0001", "mass_g": 500_000_000}],
        outputs=[
            {
                "id": "CON-2026-0001",
                "product": "concentrate",
                "mass_g": 55_000_000,
                "composition_ppm": CONCENTRATE,
            }
        ],
    )
    chain.post(
        mine,
        "lot.ship",
        ["CON-2026-0001"],
        to=plant,
        lots=[{"lot": "CON-2026-0001", "mass_g": 55_000_000}],
        transport={"mode": "rail", "document": "CIM-88112"},
    )
    chain.post(
        plant,
        "lot.receive",
        ["CON-2026-0001"],
        **{"from": mine},
        lots=[{"lot": "CON-2026-0001", "mass_g": 54_980_000}],
    )
    chain.post(
        plant,
        "lot.transform",
        ["CON-2026-0001"],
        process="separation",
        inputs=[{"lot": "CON-2026-0001", "mass_g": 54_980_000}],
        outputs=[
            {
                "id": "OX-2026-0001",
                "product": "oxide",
                "spec": "NdPr oxide 75/25",
                "mass_g": 5_000_000,
                "composition_ppm": NDPR_OXIDE,
            }
        ],
    )
    chain.post(
        plant,
        "lot.transform",
        ["OX-2026-0001"],
        process="reduction",
        inputs=[{"lot": "OX-2026-0001", "mass_g": 5_000_000}],
        outputs=[
            {
                "id": "MET-2026-0001",
                "product": "metal",
                "spec": "NdPr metal",
                "mass_g": 4_150_000,
                "composition_ppm": NDPR_METAL,
            }
        ],
    )
    chain.post(
        plant,
        "lot.ship",
        ["MET-2026-0001"],
        to=magnets,
        lots=[{"lot": "MET-2026-0001", "mass_g": 4_150_000}],
    )
    chain.post(
        magnets,
        "lot.receive",
        ["MET-2026-0001"],
        **{"from": plant},
        lots=[{"lot": "MET-2026-0001", "mass_g": 4_150_000}],
    )
    chain.post(
        magnets,
        "lot.transform",
        ["MET-2026-0001"],
        process="alloying",
        inputs=[{"lot": "MET-2026-0001", "mass_g": 4_150_000}],
        outputs=[
            {
                "id": "ALY-2026-0001",
                "product": "alloy",
                "spec": "NdFeB N42SH",
                "mass_g": 13_200_000,
                "composition_ppm": NDFEB_ALLOY,
            }
        ],
    )
    chain.post(
        magnets,
        "lot.transform",
        ["ALY-2026-0001"],
        process="sintering",
        inputs=[{"lot": "ALY-2026-0001", "mass_g": 13_200_000}],
        outputs=[
            {
                "id": "MAG-2026-0001",
                "product": "magnet",
                "spec": "N42SH sintered",
                "mass_g": 12_900_000,
                "composition_ppm": NDFEB_ALLOY,
            }
        ],
    )
    chain.post(
        magnets,
        "export.declare",
        ["MAG-2026-0001"],
        declaration={
            "id": "DEC-2026-0001",
            "lots": ["MAG-2026-0001"],
            "hs_code": "850511",
            "description": "Sintered NdFeB permanent magnets, grade N42SH",
            "declared_mass_g": 12_900_000,
            "destination": "DE",
            "licence": "MOFCOM-2026-EXP-00417",
        },
    )
    chain.post(
        "tianjin-customs",
        "customs.decide",
        ["MAG-2026-0001"],
        declaration="DEC-2026-0001",
        decision="release",
        note="documents in order",
    )
