# Early-exit policy as personal data arrive (smoke scale)
# Written by `persephone report`; redraw with: gnuplot -e "set output 'NAME.png'" NAME.gp
set terminal pngcairo size 960,620 font "sans,10"
set encoding utf8
$rounds << EOD
1 94.43744916645208 0.5758626369472469 91.0 8.956685895029585
2 81.52719111645173 67.4018481922146 92.66666666666667 5.171145012542255
3 82.12022225386957 65.09746779269683 93.0 4.302652729749456
4 81.89678788505535 65.82091221121216 93.0 2.4841377117503263
5 98.06854441979254 8.310382624569424 92.33333333333333 3.794583033596754
EOD
set title "Early-exit policy as personal data arrive (smoke scale)"
set xlabel "data-growth round (personal data arrive each round)"
set ylabel "percent"
set xtics 1
set yrange [0:105]
set grid
set key outside top center horizontal
set style fill transparent solid 0.2 noborder
plot $rounds using 1:($2-$3):($2+$3) with filledcurves linecolor rgb "#3366aa" title "FLOPs 95% CI", \
     $rounds using 1:2 with linespoints pointtype 7 linewidth 2 linecolor rgb "#3366aa" title "policy FLOPs (% of the full network)", \
     $rounds using 1:($4-$5):($4+$5) with filledcurves linecolor rgb "#aa6633" title "accuracy 95% CI", \
     $rounds using 1:4 with linespoints pointtype 5 linewidth 2 linecolor rgb "#aa6633" title "policy test accuracy (%)"
