"""The participants of the generated supply chains: mines, plants, traders, labs, customs."""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ledger.demo.model import ScenarioParticipant
from ledger.demo.reference import (
    TREO_BAYAN_OBO,
    TREO_IONIC_CLAY,
    TREO_MOUNT_WELD,
    TREO_MOUNTAIN_PASS,
    Range,
)

MINE = ("mine",)
PROCESSOR = ("processor",)
TRADER = ("trader",)
EXPORTER = ("exporter", "trader")
LAB = ("lab",)
CUSTOMS = ("customs",)
AUTHORITY = ("authority",)
# China's export-control and mining authorities (DESIGN §9.1): licences and quotas.
EXPORT_AUTHORITY = "cn-mofcom-export-control"
QUOTA_AUTHORITY = "cn-miit-rare-earth-quota"


@dataclass(frozen=True)
class Cluster:
    """Where a mine's concentrate is cracked and separated, and who works it further."""

    separation: str
    metals: str
    ndfeb: str  # NdFeB magnet maker
    smco: str | None  # SmCo magnet maker, if the region has one
    oxide_exporter: str
    metal_exporter: str
    magnet_exporter: str
    lab: str


@dataclass(frozen=True)
class Mine:
    id: str
    site_id: str
    site_name: str
    geo: str  # RFC 5870
    deposit: str  # as declared on lot.extract
    profile: str  # the REE distribution of DOMAIN §3 its ore carries
    treo: Range  # ore grade, fraction of ore mass
    ore_t: tuple[int, int]  # tonnes per extracted lot
    cluster: str
    trader: str | None  # a trader that buys the concentrate on its way to the cluster
    trader_required: bool  # across a border the trader always stands between
    concentrator: str | None  # a separate plant beneficiates the ore, if any
    concentrate_exporter: str


_P = ScenarioParticipant
PARTICIPANTS: tuple[ScenarioParticipant, ...] = (
    _P("bayan-obo-mine", "Bayan Obo Iron and Rare Earth Mine", "CN", MINE),
    _P("mountain-pass-mine", "Mountain Pass Mine", "US", MINE),
    _P("mount-weld-mine", "Mount Weld Mine", "AU", MINE),
    _P("chavara-sands-mine", "Chavara Mineral Sands", "IN", MINE),
    _P("buena-sands-mine", "Buena Mineral Sands", "BR", MINE),
    _P("longnan-clay-mine", "Longnan Ionic Clay Mine", "CN", MINE),
    _P("xunwu-clay-mine", "Xunwu Ionic Clay Mine", "CN", MINE),
    _P("pangwa-clay-mine", "Pangwa Ionic Clay Mine", "MM", MINE),
    _P("bhamo-clay-mine", "Bhamo Ionic Clay Mine", "MM", MINE),
    _P("baotou-concentrator", "Baotou Concentrator", "CN", PROCESSOR),
    _P("baotou-separation", "Baotou Rare Earth Separation Plant", "CN", PROCESSOR),
    _P("ganzhou-separation", "Ganzhou Rare Earth Separation Plant", "CN", PROCESSOR),
    _P("kuantan-separation", "Kuantan Rare Earth Processing Plant", "MY", PROCESSOR),
    _P("mountain-pass-separation", "Mountain Pass Separation Plant", "US", PROCESSOR),
    _P("la-rochelle-separation", "La Rochelle Rare Earth Separation", "FR", PROCESSOR),
    _P("aluva-separation", "Aluva Rare Earth Division", "IN", PROCESSOR),
    _P("baotou-metals", "Baotou Rare Earth Metals", "CN", PROCESSOR),
    _P("ganzhou-metals", "Ganzhou Rare Earth Metals", "CN", PROCESSOR),
    _P("kobe-metals", "Kobe Rare Earth Metals", "JP", PROCESSOR),
    _P("tulsa-metals", "Tulsa Rare Earth Metals", "US", PROCESSOR),
    _P("birmingham-metals", "Birmingham Rare Earth Metals and Alloys", "GB", PROCESSOR),
    _P("ningbo-magnets", "Ningbo Sintered NdFeB Magnets", "CN", PROCESSOR),
    _P("xiamen-smco", "Xiamen Samarium-Cobalt Magnets", "CN", PROCESSOR),
    _P("takefu-magnets", "Takefu Rare Earth Magnets", "JP", PROCESSOR),
    _P("hanau-magnets", "Hanau Rare Earth Magnets", "DE", PROCESSOR),
    _P("fort-worth-magnets", "Fort Worth NdFeB Magnets", "US", PROCESSOR),
    _P("shanghai-re-trading", "Shanghai Rare Earth Trading", "CN", TRADER),
    _P("ruili-border-trading", "Ruili Border Minerals Trading", "CN", TRADER),
    _P("rotterdam-metals-trading", "Rotterdam Minor Metals Trading", "NL", TRADER),
    _P("ningbo-export", "Ningbo Rare Earth Export", "CN", EXPORTER),
    _P("tianjin-export", "Tianjin Minerals Export", "CN", EXPORTER),
    _P("fremantle-export", "Fremantle Minerals Export", "AU", EXPORTER),
    _P("kuantan-export", "Kuantan Chemicals Export", "MY", EXPORTER),
    _P("chennai-export", "Chennai Minerals Export", "IN", EXPORTER),
    _P("santos-export", "Santos Minerals Export", "BR", EXPORTER),
    _P("myitkyina-export", "Myitkyina Minerals Export", "MM", EXPORTER),
    _P("houston-export", "Houston Critical Minerals Export", "US", EXPORTER),
    _P("hamburg-export", "Hamburg Magnet and Metals Export", "DE", EXPORTER),
    _P("kobe-export", "Kobe Magnet Export", "JP", EXPORTER),
    _P("felixstowe-export", "Felixstowe Metals Export", "GB", EXPORTER),
    _P("ningbo-assay-lab", "Ningbo Inspection and Assay Laboratory", "CN", LAB),
    _P("ganzhou-assay-lab", "Ganzhou Rare Earth Assay Laboratory", "CN", LAB),
    _P("kobe-assay-lab", "Kobe Materials Assay Laboratory", "JP", LAB),
    _P("houston-assay-lab", "Houston Metals Assay Laboratory", "US", LAB),
    _P("rotterdam-assay-lab", "Rotterdam Minerals Assay Laboratory", "NL", LAB),
    _P("perth-assay-lab", "Perth Minerals Assay Laboratory", "AU", LAB),
    _P("customs-cn-ningbo", "China Customs, Ningbo", "CN", CUSTOMS),
    _P("customs-cn-tianjin", "China Customs, Tianjin", "CN", CUSTOMS),
    _P("customs-au-fremantle", "Australian Border Force, Fremantle", "AU", CUSTOMS),
    _P("customs-my-kuantan", "Royal Malaysian Customs, Kuantan", "MY", CUSTOMS),
    _P("customs-in-chennai", "Indian Customs, Chennai", "IN", CUSTOMS),
    _P("customs-br-santos", "Receita Federal, Santos", "BR", CUSTOMS),
    _P("customs-mm-myitkyina", "Myanmar Customs, Myitkyina", "MM", CUSTOMS),
    _P("customs-us-houston", "US Customs and Border Protection, Houston", "US", CUSTOMS),
    _P("customs-de-hamburg", "Zoll Hamburg", "DE", CUSTOMS),
    _P("customs-jp-kobe", "Japan Customs, Kobe", "JP", CUSTOMS),
    _P("customs-gb-felixstowe", "UK Border Force, Felixstowe", "GB", CUSTOMS),
    _P("supply-chain-auditor", "Independent Supply Chain Auditor", "CH", ("auditor",)),
    _P(EXPORT_AUTHORITY, "Ministry of Commerce of the PRC, Export Control Bureau", "CN", AUTHORITY),
    _P(
        QUOTA_AUTHORITY,
        "Ministry of Industry and Information Technology of the PRC",
        "CN",
        AUTHORITY,
    ),
)
COUNTRY: Mapping[str, str] = MappingProxyType({p.id: p.country for p in PARTICIPANTS})
NAME: Mapping[str, str] = MappingProxyType({p.id: p.name for p in PARTICIPANTS})

# The customs post that decides each exporter's declarations.
CUSTOMS_OF: Mapping[str, str] = MappingProxyType(
    {
        "ningbo-export": "customs-cn-ningbo",
        "tianjin-export": "customs-cn-tianjin",
        "fremantle-export": "customs-au-fremantle",
        "kuantan-export": "customs-my-kuantan",
        "chennai-export": "customs-in-chennai",
        "santos-export": "customs-br-santos",
        "myitkyina-export": "customs-mm-myitkyina",
        "houston-export": "customs-us-houston",
        "hamburg-export": "customs-de-hamburg",
        "kobe-export": "customs-jp-kobe",
        "felixstowe-export": "customs-gb-felixstowe",
    }
)
# Labs that assay concentrate at the mine's export port.
PORT_LAB: Mapping[str, str] = MappingProxyType(
    {"AU": "perth-assay-lab", "US": "houston-assay-lab", "BR": "rotterdam-assay-lab"}
)

_C = Cluster
CLUSTERS: Mapping[str, Cluster] = MappingProxyType(
    {
        "baotou": _C("baotou-separation", "baotou-metals", "ningbo-magnets", "xiamen-smco",
                     "tianjin-export", "tianjin-export", "ningbo-export", "ningbo-assay-lab"),
        "ganzhou": _C("ganzhou-separation", "ganzhou-metals", "ningbo-magnets", "xiamen-smco",
                      "ningbo-export", "ningbo-export", "ningbo-export", "ganzhou-assay-lab"),
        "kuantan": _C("kuantan-separation", "kobe-metals", "takefu-magnets", "takefu-magnets",
                      "kuantan-export", "kobe-export", "kobe-export", "kobe-assay-lab"),
        "mountain-pass": _C("mountain-pass-separation", "tulsa-metals", "fort-worth-magnets",
                            None, "houston-export", "houston-export", "houston-export",
                            "houston-assay-lab"),
        "la-rochelle": _C("la-rochelle-separation", "birmingham-metals", "hanau-magnets",
                          "hanau-magnets", "hamburg-export", "felixstowe-export",
                          "hamburg-export", "rotterdam-assay-lab"),
        "aluva": _C("aluva-separation", "kobe-metals", "takefu-magnets", "takefu-magnets",
                    "chennai-export", "kobe-export", "kobe-export", "kobe-assay-lab"),
    }
)  # fmt: skip

_M = Mine
MINES: tuple[Mine, ...] = (
    _M("bayan-obo-mine", "bayan-obo-main-pit", "Bayan Obo Main Pit", "geo:41.7833,109.9667",
       "bastnaesite", "bastnaesite", TREO_BAYAN_OBO, (400, 1500), "baotou",
       "shanghai-re-trading", False, "baotou-concentrator", "tianjin-export"),
    _M("mountain-pass-mine", "mountain-pass-pit", "Mountain Pass Open Pit",
       "geo:35.4783,-115.5322", "bastnaesite", "bastnaesite", TREO_MOUNTAIN_PASS, (300, 1200),
       "mountain-pass", None, False, None, "houston-export"),
    _M("mount-weld-mine", "mount-weld-cld", "Mount Weld Central Lanthanide Deposit",
       "geo:-28.8625,122.5500", "monazite", "monazite", TREO_MOUNT_WELD, (300, 1200),
       "kuantan", None, False, None, "fremantle-export"),
    _M("chavara-sands-mine", "chavara-beach", "Chavara Beach Placer", "geo:8.9940,76.5340",
       "monazite", "monazite", TREO_MOUNT_WELD, (200, 800), "aluva", None, False, None,
       "chennai-export"),
    _M("buena-sands-mine", "buena-placer", "Buena Placer", "geo:-21.4800,-41.0100",
       "monazite", "monazite", TREO_MOUNT_WELD, (200, 800), "la-rochelle",
       "rotterdam-metals-trading", True, None, "santos-export"),
    _M("longnan-clay-mine", "longnan-zudong", "Longnan Zudong Leach Field",
       "geo:24.9100,114.7900", "ionic_clay", "clay_heavy", TREO_IONIC_CLAY, (6000, 20000),
       "ganzhou", None, False, None, "ningbo-export"),
    _M("xunwu-clay-mine", "xunwu-heling", "Xunwu Heling Leach Field", "geo:24.9500,115.6500",
       "ionic_clay", "clay_light", TREO_IONIC_CLAY, (6000, 20000), "ganzhou",
       "shanghai-re-trading", False, None, "ningbo-export"),
    _M("pangwa-clay-mine", "pangwa-leach", "Pangwa Leach Field", "geo:25.8800,98.4000",
       "ionic_clay", "clay_heavy", TREO_IONIC_CLAY, (6000, 20000), "ganzhou",
       "ruili-border-trading", True, None, "myitkyina-export"),
    _M("bhamo-clay-mine", "bhamo-leach", "Bhamo Leach Field", "geo:24.2600,97.2300",
       "ionic_clay", "clay_light", TREO_IONIC_CLAY, (6000, 20000), "ganzhou",
       "ruili-border-trading", True, None, "myitkyina-export"),
)  # fmt: skip
