# Early-exit policy as personal data arrive (full scale)
# Written by `persephone report`; redraw with: gnuplot -e "set output 'NAME.png'" NAME.gp
set terminal pngcairo size 960,620 font "sans,10"
set encoding utf8
$rounds << EOD
1 58.227809999729864 6.992945485676922 94.59166666666667 1.0524229755529917
2 52.4776874666977 6.64075327327811 95.18333333333334 0.9899757609771577
3 51.27617442604689 6.300067959112543 95.21666666666667 0.9855098543360034
4 52.346682424540404 6.775272482170513 95.525 0.943005936339999
EOD
set title "Early-exit policy as personal data arrive (full scale)"
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
